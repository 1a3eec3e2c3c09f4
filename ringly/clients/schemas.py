"""Marshmallow schemas of the client API (a client, its settings, the list)."""
from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ringly.clients.models import WEEKDAYS
from ringly.db import MAX_ROW_ID
from ringly.paging import PageArgsSchema
from ringly.text import PLAIN_TEXT

E164 = r"^\+[1-9]\d{6,14}$"
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"
# IANA zone names, as the document's enum lists them; "localtime" names the host's own zone and
# "Factory" no place, so neither is a business's zone.
TIME_ZONES = tuple(sorted(available_timezones() - {"localtime", "Factory"}))


class JsonBoolean(fields.Boolean):
    """JSON's true or false and nothing else: marshmallow's Boolean also takes 1, 0, "yes" and
    "off", which the document (type boolean) forbids."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def time_zone(**kwargs: Any) -> fields.String:
    """A time zone field: an IANA name from TIME_ZONES (the document's enum), else 422."""
    return fields.String(validate=validate.OneOf(TIME_ZONES, error="unknown IANA time zone"),
                         metadata={"description": "an IANA time zone name, e.g. "
                                                  "`America/Chicago`"}, **kwargs)


def _day_spans() -> fields.List:
    return fields.List(fields.List(
        fields.String(validate=validate.Regexp(HHMM, error="HH:MM, 00:00 to 23:59")),
        validate=validate.Length(equal=2, error="[open, close]")))


class BusinessHoursSchema(Schema):
    """Opening hours per weekday: a list of [open, close] spans in local "HH:MM", each opening
    before it closes; an empty list is closed."""

    mon, tue, wed, thu, fri, sat, sun = (_day_spans() for _ in WEEKDAYS)  # WEEKDAYS' order

    @validates_schema
    def _open_before_close(self, data: dict, **_kwargs: object) -> None:
        for day, spans in data.items():
            if any(opens >= closes for opens, closes in spans):
                raise ValidationError("each span opens before it closes", field_name=day)


class ClientSchema(Schema):
    """A client with its settings (GET/PATCH /api/clients/<id>)."""

    id = fields.Integer(dump_only=True)
    business_name = fields.String(dump_only=True)
    email = fields.String(dump_only=True)
    user_id = fields.String(dump_only=True, allow_none=True)
    ringlypro_number = fields.String(dump_only=True, allow_none=True)
    twilio_number_sid = fields.String(dump_only=True, allow_none=True)
    custom_greeting = fields.String(allow_none=True, validate=validate.Length(max=1000),
                                    metadata=PLAIN_TEXT)
    rachel_enabled = JsonBoolean()
    active = JsonBoolean()
    timezone = time_zone()
    business_hours = fields.Nested(BusinessHoursSchema, metadata={
        "description": "per weekday (`mon` … `sun`) a list of `[open, close]` spans in local "
                       "`HH:MM`, each opening before it closes (else 422); an empty list is "
                       "closed. A change replaces the whole week: a day left out is closed."})
    forwarding_number = fields.String(allow_none=True, validate=validate.Regexp(E164), metadata={
        "description": "E.164 number the bot dials for a caller who asks for a person; it must "
                       "be a fixed-line or mobile number in an allowed country "
                       "(ALLOWED_DESTINATION_COUNTRIES, default the client's own), else 422 "
                       "naming the reason"})
    country = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


CLIENT_FILTERS = ("active", "rachel_enabled", "user_id", "q", "has_number")


class ClientListArgsSchema(PageArgsSchema):
    after = fields.Integer(validate=validate.Range(min=0, max=MAX_ROW_ID), metadata={
        "description": "the previous page's `next_after` (the clients older than this id); "
                       "`cursor` does the same, so give one or the other (both: 422)"})
    active = fields.Boolean()
    rachel_enabled = fields.Boolean()
    user_id = fields.String(validate=validate.Length(max=64), metadata=PLAIN_TEXT)
    q = fields.String(validate=validate.Length(max=255),
                      metadata={**PLAIN_TEXT, "description": "part of the business name"})
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
