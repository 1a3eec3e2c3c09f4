"""API shapes for calls and usage."""
from marshmallow import Schema, fields

# Amounts travel as decimal strings ("0.0170"), never binary floats; the document says so.
MONEY = {"type": "string", "format": "decimal", "example": "1.1500"}


class CallSchema(Schema):
    call_sid = fields.String()
    from_number = fields.String(allow_none=True)
    to_number = fields.String(allow_none=True)
    direction = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    language = fields.String(allow_none=True)
    step = fields.String(allow_none=True)
    duration_seconds = fields.Integer(allow_none=True)
    price = fields.Decimal(as_string=True, allow_none=True, metadata=MONEY)
    price_unit = fields.String(allow_none=True)
    started_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class UsageSchema(Schema):
    client_id = fields.Integer()
    period_start = fields.DateTime()
    calls = fields.Integer()
    minutes = fields.Integer()
    call_cost = fields.Decimal(as_string=True, metadata=MONEY)
    messages = fields.Integer()
    number_cost = fields.Decimal(as_string=True, metadata=MONEY)
