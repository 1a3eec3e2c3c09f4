"""Marshmallow schemas of the client API (a client, its settings, the list)."""
from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import available_timezones

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from ringly.clients.models import (
    BOOKING_RULE_BOUNDS,
    DEFAULT_BOOKING_RULES,
    MAX_CLOSED_RANGES,
    WEEKDAYS,
)
from ringly.db import MAX_ROW_ID
from ringly.paging import PageArgsSchema
from ringly.text import PLAIN_TEXT

# ASCII digits only: Python's \d also takes other scripts' digits ("１", "٥"), which
# no phone network or Twilio route reads, and the document's (ECMA) \d means 0-9 alone.
E164 = r"^\+[1-9][0-9]{6,14}$"
HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
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


ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _real_date(value: str) -> None:
    try:
        date.fromisoformat(value)
    except ValueError as error:
        raise ValidationError("not a date of the calendar") from error


def _iso_date(name: str, **kwargs: Any) -> fields.String:
    # Kept as the string it was given (it is stored in JSON); "YYYY-MM-DD" strings compare
    # like the dates they name.
    return fields.String(data_key=name, attribute=name, validate=[
        validate.Regexp(ISO_DATE, error="a date as YYYY-MM-DD"), _real_date],
        metadata={"format": "date"}, **kwargs)


class ClosedDateRangeSchema(Schema):
    """Local dates the business takes no bookings, `from` through `to` (both included); a
    single day may leave `to` out."""

    first = _iso_date("from", required=True)
    last = _iso_date("to")

    @validates_schema
    def _in_order(self, data: dict, **_kwargs: object) -> None:
        if data.get("to") is not None and data["to"] < data.get("from", ""):
            raise ValidationError("must not be before `from`", field_name="to")

    @post_load
    def _both_ends(self, data: dict, **_kwargs: object) -> dict:
        return {"from": data["from"], "to": data.get("to") or data["from"]}


_A_DAY = _iso_date("day")
_ONE_DAY = {"type": "string", "pattern": ISO_DATE, "format": "date",
            "description": "one local date, `YYYY-MM-DD`: the range of that day alone"}
_DATE_RANGE = {
    "type": "object", "additionalProperties": False, "required": ["from"],
    "properties": {end: {"type": "string", "pattern": ISO_DATE, "format": "date"}
                   for end in ("from", "to")},
    "description": "`from` through `to`, both included (`to` may be left out for one day)",
}


class ClosedDay(fields.Field):
    """One entry of `closed_dates`: a day ("2026-12-25") or a range ({"from", "to"}). Either is
    stored, and shown, as the range {"from", "to"} (a day as a range of one day)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(metadata={"oneOf": [_ONE_DAY, _DATE_RANGE]}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict:
        if isinstance(value, str):
            _A_DAY.deserialize(value)  # the checks of a range's ends (a 422 naming the entry)
            return {"from": value, "to": value}
        if isinstance(value, dict):
            return ClosedDateRangeSchema().load(value)
        raise ValidationError("a date as YYYY-MM-DD, or a range {\"from\", \"to\"}")

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        return {"from": value["from"], "to": value.get("to") or value["from"]}


def booking_rule(name: str, description: str) -> fields.Integer:
    """A booking rule in minutes or days, within BOOKING_RULE_BOUNDS (the document's minimum
    and maximum), else 422 naming it."""
    low, high = BOOKING_RULE_BOUNDS[name]
    return fields.Integer(strict=True, validate=validate.Range(min=low, max=high), metadata={
        "description": f"{description} ({low} to {high}; default "
                       f"{DEFAULT_BOOKING_RULES[name]})"})


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
    timezone_source = fields.String(dump_only=True, metadata={
        "enum": ["explicit", "number", "default"],
        "description": "where `timezone` came from: `explicit` (the provision request or a "
                       "PATCH; kept), `number` (the number's area code or rate center, set when "
                       "it was bought) or `default` (`DEFAULT_TIMEZONE`: no number yet, or a "
                       "toll-free one)"})
    country = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    # Booking rules: what slots callers are offered and may book (docs/voice.md#booking-rules).
    slot_minutes = booking_rule("slot_minutes", "length of an appointment, in minutes")
    buffer_minutes = booking_rule(
        "buffer_minutes", "minutes kept free after each appointment before the next can start")
    min_notice_minutes = booking_rule(
        "min_notice_minutes", "no slot starting sooner than this many minutes from now is "
                              "offered or booked")
    horizon_days = booking_rule(
        "horizon_days", "how many days ahead a slot may be booked: through the local date "
                        "this many days after today")
    max_per_slot = booking_rule(
        "max_per_slot", "how many appointments may start at the same time")
    closed_dates = fields.List(
        ClosedDay(), validate=validate.Length(max=MAX_CLOSED_RANGES),
        metadata={"description": "local dates no slot is offered or booked on, each a day "
                                 "`\"2026-12-25\"` or a range `{\"from\": \"2026-12-24\", \"to\": "
                                 "\"2026-12-26\"}` (both included; `to` may be left out for one "
                                 f"day), at most {MAX_CLOSED_RANGES}. Answers show each as a "
                                 "range (a day: `from` and `to` the same). A change replaces the "
                                 "whole list; `[]` clears it."})


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
