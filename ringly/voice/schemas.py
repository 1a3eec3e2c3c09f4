"""API shapes for calls and usage."""
from marshmallow import Schema, fields, validate

from ringly.paging import PageArgsSchema
from ringly.voice.models import CALL_PURPOSES

# Amounts travel as decimal strings ("0.0170"), never binary floats; the document says so.
MONEY = {"type": "string", "format": "decimal", "example": "1.1500"}


class CallListArgsSchema(PageArgsSchema):
    # Only the two words the document's boolean allows in a query (not "1", "yes" or "on").
    include_verification = fields.Boolean(
        truthy={"true"}, falsy={"false"}, load_default=False,
        metadata={"description": "`true` lists provisioning's verification requests too "
                                 "(`purpose: verification`); by default they are left out"})


class CallSchema(Schema):
    call_sid = fields.String()
    purpose = fields.String(validate=validate.OneOf(CALL_PURPOSES), metadata={
        "description": "`caller`, or `verification`: the signed request provisioning made to "
                       "check the number's voice URL (finished at once, never in usage)"})
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
