"""API shapes for appointments."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema

from ringly.booking.slots import to_local
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


class ClientLocalDateTime(fields.DateTime):
    """A moment shown in the zone of the appointment's client, with that zone's offset then."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any,
                   **kwargs: Any) -> str | None:
        local = None if value is None else to_local(obj.client, value)
        return super()._serialize(local, attr, obj, **kwargs)


class AppointmentSchema(Schema):
    id = fields.Integer()
    customer_name = fields.String()
    customer_phone = fields.String()
    starts_at = fields.DateTime(metadata={"description": "the start, in UTC"})
    starts_at_local = ClientLocalDateTime(attribute="starts_at", dump_only=True, metadata={
        "description": "the same start in the client's time zone, with its offset "
                       "(`2026-12-03T10:00:00-06:00`)"})
    timezone = fields.String(attribute="client.timezone", dump_only=True, metadata={
        "description": "the client's IANA time zone, which `starts_at_local` is in"})
    ends_at = fields.DateTime()
    status = fields.String()
    confirmation_code = fields.String()
    language = fields.String()
    source = fields.String()
    call_sid = fields.String(allow_none=True)
    created_at = fields.DateTime()
    cancelled_at = fields.DateTime(allow_none=True)
