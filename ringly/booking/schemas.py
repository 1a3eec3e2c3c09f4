"""API shapes for appointments."""
from marshmallow import Schema, ValidationError, fields, validates_schema

from ringly.paging import PageArgsSchema


class AppointmentListArgsSchema(PageArgsSchema):
    starts_from = fields.AwareDateTime(
        data_key="from", metadata={"description": "only appointments starting at or after this"})
    starts_before = fields.AwareDateTime(
        data_key="to", metadata={"description": "only appointments starting before this"})

    @validates_schema
    def _range(self, data: dict, **_kwargs: object) -> None:
        start, end = data.get("starts_from"), data.get("starts_before")
        if start is not None and end is not None and end <= start:
            raise ValidationError("must be later than `from`", field_name="to")


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
