"""API shapes for messages."""
from marshmallow import Schema, fields


class MessageSchema(Schema):
    id = fields.Integer()
    sid = fields.String(allow_none=True)
    channel = fields.String()
    direction = fields.String()
    from_number = fields.String(allow_none=True)
    to_number = fields.String(allow_none=True)
    body = fields.String(allow_none=True)
    language = fields.String(allow_none=True)
    purpose = fields.String(allow_none=True)
    recording_url = fields.String(allow_none=True)
    recording_duration = fields.Integer(allow_none=True)
    transcription = fields.String(allow_none=True)
    status = fields.String(allow_none=True, metadata={
        "description": "outbound: queued, retrying, unknown, sent, delivered, undelivered, "
                       "failed or refused; inbound: received"})
    refused_reason = fields.String(allow_none=True, metadata={
        "description": "why the messaging policy refused this text (status `refused`)"})
    caller_number = fields.String(allow_none=True, metadata={
        "description": "the caller or sender this outbound text was sent for"})
    attempts = fields.Integer()
    error_code = fields.Integer(allow_none=True)
    error_message = fields.String(allow_none=True)
    appointment_id = fields.Integer(allow_none=True)
    call_sid = fields.String(allow_none=True)
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
