"""What the event routes take and answer: endpoints, events, deliveries, and their filters."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from ringly.db import MAX_ROW_ID
from ringly.events.models import DELIVERY_STATUSES, URL_LENGTH
from ringly.events.services import EVENT_TYPES, EVERY_TYPE
from ringly.paging import PageArgsSchema
from ringly.text import PLAIN_TEXT

# http(s)://host[:port][/path?query]: a host name or IPv4 address (IPv6 hosts by name), a port
# a URL can have, and printable ASCII after it. Whether it is https and where the host points
# is checked after (ringly/events/addresses.py).
_PORT = r"([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
URL_PATTERN = (r"^[hH][tT][tT][pP][sS]?://[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?"
               rf"(:{_PORT})?([/?#][!-~]*)?$")


class EndpointCreateSchema(Schema):
    url = fields.String(
        required=True, validate=[validate.Length(min=1, max=URL_LENGTH),
                                 validate.Regexp(URL_PATTERN, error="Not an http(s) URL."),
                                 # Python's `$` also matches before a final line break.
                                 validate.Predicate("isprintable", error="Not an http(s) URL.")],
        metadata={"description": "where events are POSTed: `https`, and its host must resolve "
                                 "only to public addresses (unless the server sets "
                                 "EVENTS_ALLOW_PRIVATE_URLS=true, which also allows `http`)",
                  "example": "https://crm.example.com/ringly/events"})
    events = fields.List(
        fields.String(validate=validate.OneOf((*EVENT_TYPES, EVERY_TYPE))),
        required=True, validate=validate.Length(min=1, max=len(EVENT_TYPES) + 1),
        metadata={"description": "the event types to receive, or `[\"*\"]` for every type"})
    description = fields.String(load_default=None, allow_none=True,
                                validate=validate.Length(max=255), metadata=PLAIN_TEXT)


class EndpointSchema(Schema):
    id = fields.Integer()
    url = fields.String()
    description = fields.String(allow_none=True)
    events = fields.List(fields.String())
    created_at = fields.DateTime()


class CreatedEndpointSchema(EndpointSchema):
    secret = fields.String(metadata={
        "description": "signs every delivery (the `Ringly-Signature` header); shown only in "
                       "this answer, keep it now"})


class DeliverySummarySchema(Schema):
    endpoint_id = fields.Integer()
    status = fields.String(metadata={"enum": list(DELIVERY_STATUSES)})
    attempts = fields.Integer()
    response_status = fields.Integer(allow_none=True)
    last_attempt_at = fields.DateTime(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)


class EventSchema(Schema):
    id = fields.String(attribute="uid", metadata={
        "description": "stable: every delivery of this event carries it (de-duplicate by it)"})
    type = fields.String(metadata={"enum": list(EVENT_TYPES)})
    client_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    data = fields.Dict()
    deliveries = fields.List(fields.Nested(DeliverySummarySchema))


class SentEventSchema(Schema):
    """The body POSTed to the endpoint."""

    id = fields.String(attribute="uid")
    type = fields.String()
    created_at = fields.DateTime()
    data = fields.Dict()


class DeliverySchema(DeliverySummarySchema):
    id = fields.Integer()
    event = fields.Nested(SentEventSchema, metadata={"description": "what was sent"})
    response_body = fields.String(allow_none=True, metadata={
        "description": "the first 1024 characters of the endpoint's answer"})
    error = fields.String(allow_none=True, metadata={
        "description": "why the last attempt failed when no 2xx came: no connection, a "
                       "timeout, a refused address, a redirect (never followed)"})
    created_at = fields.DateTime()


class EventListArgsSchema(PageArgsSchema):
    type = fields.String(validate=validate.OneOf(EVENT_TYPES),
                         metadata={"description": "only events of this type"})
    client_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ROW_ID),
                               metadata={"description": "only events about this client"})


class DeliveryListArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES),
                           metadata={"description": "only deliveries in this status"})
