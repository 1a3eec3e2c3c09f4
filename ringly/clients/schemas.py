"""Marshmallow schemas of the client API (search, numbers, settings)."""
from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, validate, validates

from ringly.clients.models import WEEKDAYS
from ringly.db import MAX_ROW_ID
from ringly.provisioning.schemas import (
    E164,
    CapabilitiesSchema,
    NumberDetailsSchema,
    OriginalClientSchema,
)

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class SearchNumbersSchema(Schema):
    areaCode = fields.String(validate=validate.Regexp(r"^\d{3}$", error="must be 3 digits"))
    country = fields.String(load_default="US", validate=validate.Regexp(r"^[A-Z]{2}$"))
    tollFree = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=30))
    contains = fields.String(validate=validate.Regexp(r"^[0-9A-Za-z*+]{1,16}$"))
    region = fields.String(validate=validate.Regexp(r"^[A-Z]{2}$"))
    voiceEnabled = fields.Boolean()
    smsEnabled = fields.Boolean()
    mmsEnabled = fields.Boolean()


class AvailableNumberSchema(NumberDetailsSchema):
    postalCode = fields.String(allow_none=True)


class SearchNumbersResultSchema(Schema):
    success = fields.Boolean()
    count = fields.Integer()
    numbers = fields.List(fields.Nested(AvailableNumberSchema))


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
    forwarding_number = fields.String(allow_none=True, validate=validate.Regexp(E164))
    country = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)

    @validates("timezone")
    def _zone(self, value: str, **_kwargs: object) -> None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


class ClientListArgsSchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))
    after = fields.Integer(validate=validate.Range(min=0, max=MAX_ROW_ID),
                           metadata={"description": "the last id of the previous page"})
    active = fields.Boolean()
    rachel_enabled = fields.Boolean()
    user_id = fields.String()
    q = fields.String(metadata={"description": "part of the business name"})
    has_number = fields.Boolean()


class ClientPageSchema(Schema):
    clients = fields.List(fields.Nested(ClientSchema))
    count = fields.Integer()
    next_after = fields.Integer(allow_none=True)


class LiveNumberSchema(Schema):
    sid = fields.String()
    phoneNumber = fields.String()
    friendlyName = fields.String(allow_none=True)
    voiceUrl = fields.String(allow_none=True)
    voiceFallbackUrl = fields.String(allow_none=True)
    smsUrl = fields.String(allow_none=True)
    statusCallback = fields.String(allow_none=True)
    capabilities = fields.Nested(CapabilitiesSchema)
    status = fields.String(allow_none=True)


class ClientNumberSchema(Schema):
    success = fields.Boolean()
    client = fields.Nested(OriginalClientSchema)
    number = fields.Nested(LiveNumberSchema)


class WebhooksSchema(Schema):
    voiceUrl = fields.String()
    voiceFallbackUrl = fields.String()
    smsUrl = fields.String()
    statusCallback = fields.String()
    method = fields.String()


class WebhooksResultSchema(Schema):
    success = fields.Boolean()
    message = fields.String()
    webhooks = fields.Nested(WebhooksSchema)


class AccountNumbersArgsSchema(Schema):
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))
    page_token = fields.String(metadata={"description": "next_page_token of the previous page"})


class AccountNumberSchema(Schema):
    sid = fields.String()
    phoneNumber = fields.String()
    friendlyName = fields.String(allow_none=True)
    voiceUrl = fields.String(allow_none=True)
    smsUrl = fields.String(allow_none=True)
    client_id = fields.Integer(allow_none=True)
    assigned = fields.Boolean()


class AccountNumbersSchema(Schema):
    success = fields.Boolean()
    count = fields.Integer()
    numbers = fields.List(fields.Nested(AccountNumberSchema))
    next_page_token = fields.String(allow_none=True)


class ReleaseArgsSchema(Schema):
    quarantine_days = fields.Integer(validate=validate.Range(min=1, max=90), metadata={
        "description": "keep the number this many days, then a task releases it"})


class ReleaseResultSchema(Schema):
    success = fields.Boolean()
    message = fields.String()
    phoneNumber = fields.String()
    status = fields.String()
    quarantined_until = fields.DateTime(allow_none=True)
    client = fields.Nested(OriginalClientSchema)
