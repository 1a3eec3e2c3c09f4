"""Delivering events: a signed JSON POST per event and endpoint, oldest first, retried with
capped exponential backoff for up to EVENTS_RETRY_HOURS, then given up.

An endpoint's deliveries go out one at a time, in the order they were recorded: one worker at a
time holds the endpoint's lease and sends its oldest pending delivery; while that one waits for
a retry, the later ones wait behind it. A delivery is recorded in the transaction that caused
its event, so nothing committed is lost: the task is sent after that commit, and a beat sweep
sends it again for anything still due (a lost task, a broker that was down, a retry further
away than a task may wait).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import certifi
import sqlalchemy as sa
import urllib3
from flask import current_app
from sqlalchemy.orm import joinedload

from ringly import metrics, tasks
from ringly.db import db, utcnow
from ringly.events.addresses import Target, UnsafeUrl, resolve
from ringly.events.models import RESPONSE_SNIPPET_LENGTH, Event, EventDelivery, EventEndpoint
from ringly.queue import MAX_RETRY_DELAY, send_now
from ringly.text import plain_text

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Ringly-Signature"
CONNECT_TIMEOUT, READ_TIMEOUT = 3.0, 10.0
# Longer than one attempt (a connect and a read timeout per address tried): renewed before each.
LEASE_SECONDS = 60
# A task hands the rest of a long queue to a fresh task well inside Celery's time limits.
MAX_RUN_SECONDS = 120.0
# A host with many addresses is tried on a few of them, not all.
MAX_ADDRESSES_TRIED = 3


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The Ringly-Signature header: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def event_body(event: Event) -> bytes:
    return json.dumps(event.payload(), separators=(",", ":"), sort_keys=True).encode()


@dataclass(frozen=True)
class Answer:
    """What one attempt came to: the endpoint's status and the start of its body, or why no
    answer came (refused address, connection refused, timeout...)."""

    status: int | None = None
    body: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _pool(target: Target, address: str) -> urllib3.HTTPConnectionPool:
    timeout = urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT)
    if target.scheme == "https":
        # Connect to the address just checked, but verify the certificate for the host name.
        return urllib3.HTTPSConnectionPool(
            address, target.port, timeout=timeout, retries=False, maxsize=1,
            cert_reqs="CERT_REQUIRED", ca_certs=certifi.where(),
            server_hostname=target.host, assert_hostname=target.host)
    return urllib3.HTTPConnectionPool(address, target.port, timeout=timeout, retries=False,
                                      maxsize=1)


def _post_to(target: Target, address: str, body: bytes, headers: dict[str, str]) -> Answer:
    with _pool(target, address) as pool:
        response = pool.urlopen(
            "POST", target.path, body=body, headers={**headers, "Host": target.host_header},
            redirect=False, retries=False, preload_content=False, assert_same_host=False)
        try:
            snippet = response.read(RESPONSE_SNIPPET_LENGTH, decode_content=False)
        finally:
            response.release_conn()
    text = plain_text(snippet.decode("utf-8", errors="replace"), RESPONSE_SNIPPET_LENGTH)
    error = None
    if 300 <= response.status < 400:
        error = f"redirects are not followed (Location: {response.headers.get('Location')})"
    return Answer(response.status, text or None, error and error[:500])


def post_event(url: str, secret: str, event_uid: str, event_type: str, body: bytes, *,
               allow_private: bool) -> Answer:
    """One signed POST of `body` to `url`, checked again for SSRF just before it is sent."""
    try:
        target = resolve(url, allow_private=allow_private)
    except UnsafeUrl as refused:
        return Answer(error=f"not sent: the URL {refused}")
    headers = {
        "Content-Type": "application/json", "User-Agent": "Ringly-Events/1",
        "Accept-Encoding": "identity", "Ringly-Event-Id": event_uid,
        "Ringly-Event-Type": event_type, SIGNATURE_HEADER: sign(secret, body, int(time.time())),
    }
    error = "no address to connect to"
    for address in target.addresses[:MAX_ADDRESSES_TRIED]:
        try:
            return _post_to(target, address, body, headers)
        except (urllib3.exceptions.ConnectTimeoutError, urllib3.exceptions.NewConnectionError,
                ConnectionRefusedError) as failure:
            error = f"could not connect to {address}: {_reason(failure)}"  # try the next one
        except (urllib3.exceptions.HTTPError, OSError) as failure:
            # Sent, perhaps received: another address would be a second copy, not a rescue.
            return Answer(error=f"no answer from {address}: {_reason(failure)}"[:500])
    return Answer(error=error[:500])


def _reason(failure: BaseException) -> str:
    reason = getattr(failure, "reason", None) or failure
    return f"{type(reason).__name__}: {reason}"[:300]


def retry_backoff(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones: exponential from
    EVENTS_RETRY_BASE, capped at EVENTS_RETRY_CAP, with jitter so endpoints do not retry in
    step."""
    base = float(current_app.config["EVENTS_RETRY_BASE"])
    cap = float(current_app.config["EVENTS_RETRY_CAP"])
    return min(cap, base * 2 ** min(max(attempts - 1, 0), 40)) * random.uniform(0.8, 1.0)


# -- The endpoint's lease: one deliverer at a time, so deliveries stay in order -------------

def _claim(endpoint_id: int) -> str | None:
    token, now = secrets.token_hex(8), utcnow()
    claimed = db.session.execute(
        sa.update(EventEndpoint)
        .where(EventEndpoint.id == endpoint_id, EventEndpoint.deleted_at.is_(None),
               sa.or_(EventEndpoint.leased_until.is_(None), EventEndpoint.leased_until < now))
        .values(lease_token=token, leased_until=now + timedelta(seconds=LEASE_SECONDS))
        .execution_options(synchronize_session=False))
    db.session.commit()
    return token if claimed.rowcount == 1 else None


def _renew(endpoint_id: int, token: str) -> None:
    db.session.execute(
        sa.update(EventEndpoint)
        .where(EventEndpoint.id == endpoint_id, EventEndpoint.lease_token == token)
        .values(leased_until=utcnow() + timedelta(seconds=LEASE_SECONDS))
        .execution_options(synchronize_session=False))


def _release(endpoint_id: int, token: str) -> None:
    db.session.rollback()
    db.session.execute(
        sa.update(EventEndpoint)
        .where(EventEndpoint.id == endpoint_id, EventEndpoint.lease_token == token)
        .values(lease_token=None, leased_until=None)
        .execution_options(synchronize_session=False))
    db.session.commit()


# -- Delivering an endpoint's queue -----------------------------------------------------------

def _head(endpoint_id: int) -> EventDelivery | None:
    """The endpoint's oldest pending delivery: the one every later delivery waits behind."""
    return db.session.scalar(
        sa.select(EventDelivery)
        .where(EventDelivery.endpoint_id == endpoint_id, EventDelivery.status == "pending")
        .options(joinedload(EventDelivery.event), joinedload(EventDelivery.endpoint))
        .order_by(EventDelivery.id).limit(1)
        .execution_options(populate_existing=True))


def _due_in(delivery: EventDelivery, now: datetime) -> float:
    if delivery.next_attempt_at is None:
        return 0.0
    return max((delivery.next_attempt_at - now).total_seconds(), 0.0)


def deliver_endpoint(endpoint_id: int) -> str:
    """Send an endpoint's pending deliveries oldest first, until the queue is empty, one has to
    wait for a retry, or this run has worked long enough (a new task carries on). Another
    worker holding the endpoint is left to it. Returns what stopped the run."""
    started = time.monotonic()
    while True:
        token = _claim(endpoint_id)
        if token is None:
            return "busy"
        try:
            stop = _drain(endpoint_id, token, started)
        finally:
            _release(endpoint_id, token)
        if stop.wait is None:
            # A delivery recorded while the lease was held had its task turned away: look once
            # more now the lease is free, so it is not left for the sweep.
            head = _head(endpoint_id)
            db.session.rollback()
            if head is not None and _due_in(head, utcnow()) == 0:
                continue
            return "empty"
        if stop.out_of_time:
            send_now(tasks.DELIVER_EVENTS, endpoint_id)  # a fresh task carries on
            return "continued"
        if not stop.failed:
            # Woken while the head waits for its retry: the run that failed it has scheduled
            # that retry (or the sweep will), so no second one is scheduled from here.
            return "waiting"
        if stop.wait <= MAX_RETRY_DELAY:
            send_now(tasks.DELIVER_EVENTS, endpoint_id, countdown=stop.wait)
        # Otherwise the beat sweep sends it when it is due: a longer countdown would wait
        # unacknowledged past the broker's visibility timeout.
        return "retrying"


@dataclass(frozen=True)
class _Stop:
    """Why a run stopped: seconds until the head is due (None: nothing pending), whether this
    run failed that head just now, and whether it ran out of time."""

    wait: float | None
    failed: bool = False
    out_of_time: bool = False


def _drain(endpoint_id: int, token: str, started: float) -> _Stop:
    """Deliver while the head is due."""
    allow_private = bool(current_app.config["EVENTS_ALLOW_PRIVATE_URLS"])
    while True:
        if time.monotonic() - started > MAX_RUN_SECONDS:
            return _Stop(0.0, out_of_time=True)
        delivery = _head(endpoint_id)
        if delivery is None:
            db.session.rollback()
            return _Stop(None)
        wait = _due_in(delivery, utcnow())
        if wait > 0:
            db.session.rollback()
            return _Stop(wait)
        event, endpoint = delivery.event, delivery.endpoint
        delivery_id, url, secret = delivery.id, endpoint.url, endpoint.secret
        uid, event_type, body = event.uid, event.type, event_body(event)
        _renew(endpoint_id, token)
        db.session.commit()  # no transaction stays open while the endpoint is called
        answer = post_event(url, secret, uid, event_type, body, allow_private=allow_private)
        retry_in = record_attempt(delivery_id, answer)
        metrics.count_event_delivery("delivered" if answer.ok else
                                     "retrying" if retry_in is not None else "given_up")
        if retry_in is not None:
            return _Stop(retry_in, failed=True)


def record_attempt(delivery_id: int, answer: Answer) -> float | None:
    """Keep what an attempt came to; the seconds until the next attempt, or None when the
    delivery is done (delivered, given up, or cancelled meanwhile)."""
    delivery = db.session.get(EventDelivery, delivery_id, with_for_update=True,
                              populate_existing=True)
    if delivery is None:
        db.session.rollback()
        return None
    now = utcnow()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_status, delivery.response_body = answer.status, answer.body
    delivery.error = answer.error
    retry_in: float | None = None
    if delivery.status != "pending":
        pass  # its endpoint was deleted while this attempt was on its way
    elif answer.ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
    else:
        deadline = delivery.event.created_at + timedelta(
            hours=float(current_app.config["EVENTS_RETRY_HOURS"]))
        if now >= deadline:
            delivery.status, delivery.next_attempt_at = "failed", None
            log.warning("event %s to endpoint %s given up after %d attempts: %s",
                        delivery.event.uid, delivery.endpoint_id, delivery.attempts,
                        answer.error or answer.status)
        else:
            delivery.next_attempt_at = min(now + timedelta(seconds=retry_backoff(
                delivery.attempts)), deadline)
            retry_in = _due_in(delivery, now)
    db.session.commit()
    return retry_in


def sweep_deliveries() -> int:
    """Send the delivery task for every endpoint whose oldest pending delivery is due and that
    no worker holds: tasks lost on the way, broker outages, and retries too far off for a
    countdown. Returns how many endpoints were sent."""
    now = utcnow()
    heads = (sa.select(sa.func.min(EventDelivery.id))
             .where(EventDelivery.status == "pending").group_by(EventDelivery.endpoint_id))
    due = list(db.session.scalars(
        sa.select(EventDelivery.endpoint_id)
        .join(EventEndpoint, EventEndpoint.id == EventDelivery.endpoint_id)
        .where(EventDelivery.id.in_(heads), EventEndpoint.deleted_at.is_(None),
               sa.or_(EventDelivery.next_attempt_at.is_(None),
                      EventDelivery.next_attempt_at <= now),
               sa.or_(EventEndpoint.leased_until.is_(None), EventEndpoint.leased_until < now))
        .order_by(EventDelivery.endpoint_id)))
    db.session.rollback()
    for endpoint_id in due:
        send_now(tasks.DELIVER_EVENTS, endpoint_id)
    return len(due)
