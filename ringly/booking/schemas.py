"""API shapes for appointments."""
from marshmallow import Schema, fields


class AppointmentSchema(Schema):
    id = fields.Integer()
    customer_name = fields.String()
    customer_phone = fields.String()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    status = fields.String()
    confirmation_code = fields.String()
    language = fields.String()
    source = fields.String()
    call_sid = fields.String(allow_none=True)
    created_at = fields.DateTime()
    cancelled_at = fields.DateTime(allow_none=True)
