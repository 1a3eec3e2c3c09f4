"""Marshmallow schemas of the provisioning API (request body and headers, job, numbers)."""
from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from ringly.clients.schemas import E164, JsonBoolean, time_zone
from ringly.db import MAX_ROW_ID
from ringly.paging import DEFAULT_LIMIT, MAX_CURSOR_LENGTH, MAX_LIMIT, PageArgsSchema
from ringly.provisioning.states import JobState
from ringly.text import PLAIN_TEXT

IDEMPOTENCY_KEY_LENGTH = 255
# Printable ASCII with at least one visible character: an HTTP header carries nothing else
# reliably, and spaces around a value are dropped on the way.
IDEMPOTENCY_KEY_PATTERN = r"^[ -~]*[!-~][ -~]*$"
IDEMPOTENCY_KEY_RULE = f"1 to {IDEMPOTENCY_KEY_LENGTH} printable ASCII characters"
# Twilio's `Contains`: digits, letters (keypad digits), `*` one digit, `%` any run, a leading
# `+` anchors at the number's start and a trailing `$` at its end; 2 to 16 characters.
CONTAINS_PATTERN = r"^\+?[0-9A-Za-z*%]+\$?$"
# A Prefer header longer than this is not read at all (no client needs more for `wait=N`).
MAX_PREFER_LENGTH = 256
# `wait=` and at most four digits; anything longer is no wait asked for (RFC 7240: a server
# ignores a preference it cannot honour), so a thousand-digit value never reaches int().
WAIT_PREFERENCE = re.compile(r"[ \t]*wait[ \t]*=[ \t]*([0-9]{1,4})[ \t]*", re.IGNORECASE)


class JsonInteger(fields.Integer):
    """A JSON integer and nothing else: not "10" or 10.5 (marshmallow's Integer takes both) nor
    true (its strict mode takes a bool, an int to Python)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


class ProvisionRequestSchema(Schema):
    business_name = fields.String(required=True, validate=validate.Length(min=1, max=255),
                                  metadata=PLAIN_TEXT)
    email = fields.Email(required=True, validate=validate.Length(max=254))
    user_id = fields.String(validate=validate.Length(max=64), allow_none=True, metadata=PLAIN_TEXT)
    areaCode = fields.String(validate=validate.Regexp(r"^[0-9]{3}$", error="must be 3 digits"))
    tollFree = JsonBoolean(load_default=False)
    custom_greeting = fields.String(validate=validate.Length(max=1000), allow_none=True,
                                    metadata=PLAIN_TEXT)
    phoneNumber = fields.String(
        validate=validate.Regexp(E164, error="must be an E.164 number such as +14155550100")
    )
    country = fields.String(
        load_default="US", validate=validate.Regexp(r"^[A-Z]{2}$", error="ISO 3166 alpha-2")
    )
    timezone = time_zone()
    allowTollFreeFallback = JsonBoolean(
        load_default=False,
        metadata={"description": "buy a toll-free number when no local one is available"},
    )


class WaitPreference(fields.String):
    """The `Prefer` header as the seconds of `wait=N` it asks for; None for anything else (a
    preference Ringly does not understand is ignored, never an error)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int | None:
        if not isinstance(value, str) or len(value) > MAX_PREFER_LENGTH:
            return None
        for preference in re.split(r"[,;]", value):
            match = WAIT_PREFERENCE.fullmatch(preference)
            if match:
                return int(match.group(1))
        return None


class ProvisionHeadersSchema(Schema):
    """The headers a provision request may carry (the rest are not read)."""

    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=[validate.Length(min=1, max=IDEMPOTENCY_KEY_LENGTH, error=IDEMPOTENCY_KEY_RULE),
                  validate.Regexp(IDEMPOTENCY_KEY_PATTERN, error=IDEMPOTENCY_KEY_RULE)],
        metadata={"description": f"{IDEMPOTENCY_KEY_RULE}, scoped to the API key: the same key "
                                 "and body from the same API key is the same job; the same key "
                                 "with another body is a 409; another API key's use of the same "
                                 "key is a job of its own."})
    wait = WaitPreference(
        data_key="Prefer",
        metadata={"description": "`wait=N` (N: 1 to 4 digits, capped at 10): answer 200 with "
                                 "the final result if the job ends within N seconds, with "
                                 "`Preference-Applied: wait=<the wait used>`. Any other value is "
                                 "ignored (no `Preference-Applied`).",
                  "example": "wait=10"})


class CapabilitiesSchema(Schema):
    voice = fields.Boolean()
    sms = fields.Boolean()
    mms = fields.Boolean()


class NumberDetailsSchema(Schema):
    phoneNumber = fields.String()
    friendlyName = fields.String(allow_none=True)
    locality = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    capabilities = fields.Nested(CapabilitiesSchema)


class OriginalClientSchema(Schema):
    id = fields.Integer()
    business_name = fields.String()
    email = fields.String()
    ringlypro_number = fields.String(allow_none=True)
    twilio_number_sid = fields.String(allow_none=True)
    rachel_enabled = fields.Boolean()
    active = fields.Boolean()
    voice_webhook = fields.String()
    sms_webhook = fields.String()


class ProvisionResultSchema(Schema):
    success = fields.Boolean()
    message = fields.String()
    client = fields.Nested(OriginalClientSchema)
    number_details = fields.Nested(NumberDetailsSchema)


class JobErrorSchema(Schema):
    code = fields.String()
    message = fields.String()
    twilio_code = fields.Integer(allow_none=True)


class JobSchema(Schema):
    id = fields.String()
    status = fields.String(metadata={"enum": [state.value for state in JobState]})
    step = fields.String(allow_none=True)
    attempts = fields.Integer()
    tag = fields.String()
    client_id = fields.Integer(allow_none=True)
    chosen_number = fields.String(allow_none=True)
    choice_reason = fields.String(allow_none=True)
    twilio_sid = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    error = fields.Nested(JobErrorSchema, allow_none=True)
    result = fields.Nested(ProvisionResultSchema, allow_none=True)
    location = fields.String()


class ProvisionAcceptedSchema(Schema):
    success = fields.Boolean()
    message = fields.String()
    job = fields.Nested(JobSchema)
    client = fields.Nested(OriginalClientSchema)


class ProvisionFinishedSchema(ProvisionResultSchema):
    job_id = fields.String()
    error = fields.Nested(JobErrorSchema)


class SearchNumbersSchema(Schema):
    areaCode = fields.String(validate=validate.Regexp(r"^[0-9]{3}$", error="must be 3 digits"))
    country = fields.String(load_default="US", validate=validate.Regexp(r"^[A-Z]{2}$"))
    tollFree = JsonBoolean(load_default=False)
    limit = JsonInteger(load_default=10, validate=validate.Range(min=1, max=30))
    contains = fields.String(
        validate=[validate.Length(min=2, max=16), validate.Regexp(CONTAINS_PATTERN)],
        metadata={"description": "Twilio's pattern: digits and letters (as on a keypad), `*` "
                                 "one digit, `%` any digits, a leading `+` anchors at the "
                                 "start and a trailing `$` at the end"})
    region = fields.String(validate=validate.Regexp(r"^[A-Z]{2}$"))
    voiceEnabled = JsonBoolean()
    smsEnabled = JsonBoolean()
    mmsEnabled = JsonBoolean()


class AvailableNumberSchema(NumberDetailsSchema):
    postalCode = fields.String(allow_none=True)


class SearchNumbersResultSchema(Schema):
    success = fields.Boolean()
    count = fields.Integer()
    numbers = fields.List(fields.Nested(AvailableNumberSchema))


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


class AccountNumbersArgsSchema(PageArgsSchema):
    """`limit` and `cursor` as on every list; the original's `page_size` and `page_token` still
    work (one or the other of each pair)."""

    limit = fields.Integer(validate=validate.Range(min=1, max=MAX_LIMIT),
                           metadata={"description": f"rows per page (1-{MAX_LIMIT}, default "
                                                    f"{DEFAULT_LIMIT})"})
    page_size = fields.Integer(validate=validate.Range(min=1, max=100),
                               metadata={"description": "the original's name for `limit` (1-100)"})
    page_token = fields.String(
        validate=[validate.Length(max=MAX_CURSOR_LENGTH),
                  validate.Regexp(r"^[A-Za-z0-9_-]+$", error="Not a page token Ringly gave out.")],
        metadata={"description": "opaque: the previous page's `next_page_token` (the "
                                 "original's way to the next page; `cursor` does the same)"})

    @validates_schema
    def _one_of_each_pair(self, data: dict, **_kwargs: object) -> None:
        if data.get("limit") is not None and data.get("page_size") is not None:
            raise ValidationError("give `limit` or `page_size`, not both", field_name="page_size")
        if data.get("cursor") and data.get("page_token"):
            raise ValidationError("give `cursor` or `page_token`, not both",
                                  field_name="page_token")

    @post_load
    def _limit(self, data: dict, **_kwargs: object) -> dict:
        data["limit"] = data.pop("page_size", None) or data.get("limit") or DEFAULT_LIMIT
        return data


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
    numbers = fields.List(fields.Nested(AccountNumberSchema), attribute="rows")
    next_page_token = fields.String(allow_none=True, metadata={
        "description": "pass as `page_token` for the next page; null on the last page"})


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


class JobListArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf([state.value for state in JobState]),
                           metadata={"description": "only jobs in this state"})
    client_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ROW_ID),
                               metadata={"description": "only this client's jobs"})
    created_from = fields.AwareDateTime(metadata={
        "description": "only jobs created at or after this moment (ISO 8601 with a zone)"})
    created_to = fields.AwareDateTime(metadata={
        "description": "only jobs created before this moment (ISO 8601 with a zone)"})

    @validates_schema
    def _created_range(self, data: dict, **_kwargs: object) -> None:
        since, until = data.get("created_from"), data.get("created_to")
        if since is not None and until is not None and until <= since:
            raise ValidationError("must be later than `created_from`", field_name="created_to")
