"""Events: `emit` for every domain, event endpoints (made, listed, deleted), and what was sent.

A domain calls `emit(type, data, client_id=...)` inside its own transaction: the event and one
delivery per endpoint that wants it are added to that transaction, and the delivery task is
sent (by name) only after it commits. A rolled-back change emits nothing.
"""
from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from ringly import tasks
from ringly.admin.services import record_event
from ringly.db import db, newest_first, utcnow
from ringly.errors import Conflict, InvalidInput, NotFound
from ringly.events.addresses import Unresolvable, UnsafeUrl, resolve
from ringly.events.models import Event, EventDelivery, EventEndpoint
from ringly.paging import Keyset, Page, keyset_page
from ringly.queue import enqueue_after_commit

EVENT_TYPES = (
    "number.provisioned",
    "number.provisioning_failed",
    "number.released",
    "number.webhooks_repaired",
    "appointment.booked",
    "appointment.changed",
    "appointment.cancelled",
    "call.completed",
    "message.failed",
)
EVERY_TYPE = "*"
SECRET_PREFIX = "whsec_"
# Each endpoint costs a POST per event: enough for an integration's environments, no more.
MAX_ENDPOINTS = 20

ENDPOINT_PAGES = Keyset.by_id("event-endpoints")
EVENT_PAGES = Keyset.by_id("events")
DELIVERY_PAGES = Keyset.by_id("event-deliveries")


def emit(event_type: str, data: Mapping[str, Any], *, client_id: int | None = None) -> Event:
    """Record an event in the caller's transaction (the caller commits); each endpoint that
    receives this type gets a delivery, sent after the commit."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"{event_type!r} is not an event type listed in EVENT_TYPES")
    event = Event(type=event_type, client_id=client_id,
                  data=json.loads(json.dumps(dict(data), default=_json_text)))
    db.session.add(event)
    # The caller's pending rows are not flushed here: a constraint they break must fail where
    # the caller expects it, not inside this query.
    with db.session.no_autoflush:
        endpoints = list(db.session.scalars(
            sa.select(EventEndpoint).where(EventEndpoint.deleted_at.is_(None))
            .order_by(EventEndpoint.id)))
    for endpoint in endpoints:
        if endpoint.receives(event_type):
            db.session.add(EventDelivery(event=event, endpoint_id=endpoint.id))
            enqueue_after_commit(tasks.DELIVER_EVENTS, endpoint.id)
    return event


def _json_text(value: Any) -> str:
    """JSON as delivered: a moment in ISO 8601 (in UTC when it has a zone), a Decimal or a
    zone as its text."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).isoformat()
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def create_endpoint(body: dict[str, Any]) -> EventEndpoint:
    """Make an endpoint after checking its URL (https, public addresses only unless allowed; a
    host not in DNS yet is checked when it is), with a new signing secret (the create answer
    shows it; no later answer does)."""
    allow_private = bool(current_app.config["EVENTS_ALLOW_PRIVATE_URLS"])
    url = body["url"].strip()
    try:
        resolve(url, allow_private=allow_private)
    except Unresolvable:
        pass  # not yet in DNS: every delivery checks its addresses before it connects
    except UnsafeUrl as refused:
        raise InvalidInput(f"The endpoint URL is refused: {refused}.",
                           errors={"url": [str(refused)]}) from None
    active = db.session.scalar(sa.select(sa.func.count(EventEndpoint.id))
                               .where(EventEndpoint.deleted_at.is_(None)))
    if active >= MAX_ENDPOINTS:
        raise Conflict(f"at most {MAX_ENDPOINTS} event endpoints; delete one first")
    wanted = list(dict.fromkeys(body["events"]))
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    endpoint = EventEndpoint(url=url, description=body.get("description"),
                             events=[EVERY_TYPE] if EVERY_TYPE in wanted else wanted,
                             secret=secret)
    db.session.add(endpoint)
    record_event("event_endpoint.created", f"event endpoint {url} for {', '.join(endpoint.events)}",
                 subject=endpoint, data={"url": url, "events": endpoint.events})
    db.session.commit()
    return endpoint


def get_endpoint(endpoint_id: int) -> EventEndpoint:
    endpoint = db.session.get(EventEndpoint, endpoint_id)
    if endpoint is None or endpoint.deleted_at is not None:
        raise NotFound(f"no event endpoint {endpoint_id}")
    return endpoint


def delete_endpoint(endpoint_id: int) -> None:
    """Stop sending to an endpoint: what it had not received yet is cancelled, its history
    stays in the database (and the audit log) but no longer in the API."""
    endpoint = get_endpoint(endpoint_id)
    endpoint.deleted_at = utcnow()
    db.session.execute(
        sa.update(EventDelivery)
        .where(EventDelivery.endpoint_id == endpoint.id, EventDelivery.status == "pending")
        .values(status="cancelled", next_attempt_at=None)
        .execution_options(synchronize_session=False))
    record_event("event_endpoint.deleted", f"event endpoint {endpoint.url} deleted",
                 subject=endpoint)
    db.session.commit()


def list_endpoints(args: dict[str, Any]) -> Page:
    """Endpoints newest first."""
    def fetch(limit: int, before_id: int | None) -> list[EventEndpoint]:
        query = sa.select(EventEndpoint).where(EventEndpoint.deleted_at.is_(None))
        return list(db.session.scalars(newest_first(query, EventEndpoint.id, limit, before_id)))

    return keyset_page(ENDPOINT_PAGES, args, fetch)


def list_events(args: dict[str, Any]) -> Page:
    """Events newest first, each with where it went and how that went; by type and client."""
    def fetch(limit: int, before_id: int | None) -> list[Event]:
        query = sa.select(Event).options(selectinload(Event.deliveries))
        if args.get("type"):
            query = query.where(Event.type == args["type"])
        if args.get("client_id") is not None:
            query = query.where(Event.client_id == args["client_id"])
        return list(db.session.scalars(newest_first(query, Event.id, limit, before_id)))

    return keyset_page(EVENT_PAGES, args, fetch)


def list_deliveries(endpoint_id: int, args: dict[str, Any]) -> Page:
    """An endpoint's deliveries newest first: what was sent, answered and retried."""
    get_endpoint(endpoint_id)

    def fetch(limit: int, before_id: int | None) -> list[EventDelivery]:
        query = (sa.select(EventDelivery).where(EventDelivery.endpoint_id == endpoint_id)
                 .options(selectinload(EventDelivery.event)))
        if args.get("status"):
            query = query.where(EventDelivery.status == args["status"])
        return list(db.session.scalars(newest_first(query, EventDelivery.id, limit, before_id)))

    return keyset_page(DELIVERY_PAGES, args, fetch)


def expire_events() -> int:
    """Delete events older than EVENTS_RETENTION_DAYS (with their deliveries), except those
    still being delivered. Returns how many."""
    cutoff = utcnow() - timedelta(days=float(current_app.config["EVENTS_RETENTION_DAYS"]))
    pending = sa.select(EventDelivery.event_id).where(EventDelivery.status == "pending")
    expired = list(db.session.scalars(
        sa.select(Event.id).where(Event.created_at < cutoff, Event.id.not_in(pending))
        .limit(5000)))
    if expired:
        db.session.execute(sa.delete(EventDelivery).where(EventDelivery.event_id.in_(expired)))
        db.session.execute(sa.delete(Event).where(Event.id.in_(expired)))
    db.session.commit()
    return len(expired)
