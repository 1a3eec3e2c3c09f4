"""Marshmallow schemas of the client API (a client, its settings, the list)."""
from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from ringly.clients.models import WEEKDAYS
from ringly.db import MAX_ROW_ID
from ringly.paging import PageArgsSchema

E164 = r"^\+[1-9]\d{6,14}$"
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class ClientSchema(Schema):
    """A client with its settings (GET/PATCH /api/clients/<id>)."""

    id = fields.Integer(dump_only=True)
    business_name = fields.String(dump_only=True)
    email = fields.String(dump_only=True)
    user_id = fields.String(dump_only=True, allow_none=True)
    ringlypro_number = fields.String(dump_only=True, allow_none=True)
    twilio_number_sid = fields.String(dump_only=True, allow_none=True)
    custom_greeting = fields.String(allow_none=True, validate=validate.Length(max=1000))
    rachel_enabled = fields.Boolean()
    active = fields.Boolean()
    timezone = fields.String(validate=validate.Length(max=64))
    business_hours = fields.Dict(keys=fields.String(), values=fields.List(fields.List(
        fields.String())))
    forwarding_number = fields.String(allow_none=True, validate=validate.Regexp(E164), metadata={
        "description": "E.164 number the bot dials for a caller who asks for a person; it must "
                       "be a fixed-line or mobile number in an allowed country "
                       "(ALLOWED_DESTINATION_COUNTRIES, default the client's own), else 422 "
                       "naming the reason"})
    country = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)

    @validates("timezone")
    def _zone(self, value: str, **_kwargs: object) -> None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValidationError("unknown IANA time zone") from error

    @validates("business_hours")
    def _hours(self, value: dict, **_kwargs: object) -> None:
        for day, spans in value.items():
            if day not in WEEKDAYS:
                raise ValidationError(f"unknown weekday {day!r}; use {', '.join(WEEKDAYS)}")
            for span in spans:
                if len(span) != 2 or not all(HHMM.match(t) for t in span) or span[0] >= span[1]:
                    raise ValidationError(f"{day}: each span is [\"HH:MM\", \"HH:MM\"], open "
                                          "before close")


CLIENT_FILTERS = ("active", "rachel_enabled", "user_id", "q", "has_number")


class ClientListArgsSchema(PageArgsSchema):
    after = fields.Integer(validate=validate.Range(min=0, max=MAX_ROW_ID), metadata={
        "description": "the previous page's `next_after` (the clients older than this id); "
                       "`cursor` does the same"})
    active = fields.Boolean()
    rachel_enabled = fields.Boolean()
    user_id = fields.String(validate=validate.Length(max=64))
    q = fields.String(validate=validate.Length(max=255),
                      metadata={"description": "part of the business name"})
    has_number = fields.Boolean()

    @validates_schema
    def _one_way_to_the_next_page(self, data: dict, **_kwargs: object) -> None:
        if data.get("after") is not None and data.get("cursor"):
            raise ValidationError("give `after` or `cursor`, not both", field_name="after")


class ClientPageSchema(Schema):
    clients = fields.List(fields.Nested(ClientSchema), attribute="rows")
    count = fields.Integer()
    next_after = fields.Integer(allow_none=True, metadata={
        "description": "pass as `after` for the next page; null on the last page"})
