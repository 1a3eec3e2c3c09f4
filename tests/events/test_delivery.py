"""Delivering events to a receiver on 127.0.0.1, in this process: signed, retried, in order, given
up after the retry window, and checked for SSRF again before every attempt."""
from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import sqlalchemy as sa

from ringly import events, tasks
from ringly.db import db, utcnow
from ringly.events import delivery
from ringly.events.models import Event, EventDelivery
from ringly.events.services import create_endpoint
from tests.events.conftest import Receiver


def _endpoint(url: str, types: list[str] | None = None):
    endpoint = create_endpoint({"url": url, "events": types or ["*"], "description": None})
    return endpoint.id, endpoint.secret


def _deliveries(endpoint_id: int) -> list[EventDelivery]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(EventDelivery).where(
        EventDelivery.endpoint_id == endpoint_id).order_by(EventDelivery.id)))


def _due_now(endpoint_id: int) -> None:
    """Time passes: every pending retry of the endpoint is due."""
    db.session.execute(sa.update(EventDelivery).where(
        EventDelivery.endpoint_id == endpoint_id, EventDelivery.status == "pending",
        EventDelivery.next_attempt_at.is_not(None)).values(next_attempt_at=utcnow()))
    db.session.commit()


def test_delivery_is_a_signed_json_post_the_documented_recipe_verifies(
        app_context, receiver: Receiver, verify, sent_tasks):
    endpoint_id, secret = _endpoint(receiver.url)
    events.emit("number.provisioned", {"job_id": "j1", "phone_number": "+14155550100"},
                client_id=7)
    db.session.commit()
    assert sent_tasks == [(tasks.DELIVER_EVENTS, (endpoint_id,))]  # sent after the commit

    assert delivery.deliver_endpoint(endpoint_id) == "empty"
    [got] = receiver.snapshot()
    assert got.path == "/ringly/events"
    assert got.headers["Content-Type"] == "application/json"
    assert verify(secret, got.headers["Ringly-Signature"], got.body)
    assert not verify(secret, got.headers["Ringly-Signature"], got.body + b" ")
    assert not verify("whsec_another", got.headers["Ringly-Signature"], got.body)
    event = db.session.scalar(sa.select(Event))
    assert got.event == {"id": event.uid, "type": "number.provisioned",
                         "created_at": got.event["created_at"],
                         "data": {"job_id": "j1", "phone_number": "+14155550100"}}
    assert got.headers["Ringly-Event-Id"] == event.uid
    [sent] = _deliveries(endpoint_id)
    assert (sent.status, sent.attempts, sent.response_status, sent.response_body) == (
        "delivered", 1, 200, "ok")


def test_the_recipe_refuses_a_stale_timestamp(app_context, verify):
    body = b'{"id":"evt_1"}'
    old = int(utcnow().timestamp()) - 301
    assert verify("whsec_x", delivery.sign("whsec_x", body, old + 2), body)
    assert not verify("whsec_x", delivery.sign("whsec_x", body, old), body)
    assert not verify("whsec_x", "v1=abc", body) and not verify("whsec_x", "", body)


def test_failing_answer_is_kept_and_retried_with_the_same_event_id(
        app_context, receiver: Receiver, verify, sent_tasks):
    endpoint_id, secret = _endpoint(receiver.url)
    receiver.answers = [500]
    events.emit("call.completed", {"call_sid": "CA1"}, client_id=1)
    db.session.commit()

    assert delivery.deliver_endpoint(endpoint_id) == "retrying"
    [failed] = _deliveries(endpoint_id)
    assert (failed.status, failed.attempts, failed.response_status) == ("pending", 1, 500)
    assert failed.response_body == "receiver failed: try again"
    assert failed.next_attempt_at > failed.last_attempt_at
    # The retry is queued with a countdown (never longer than a task may wait unacknowledged).
    name, args = sent_tasks[-1]
    assert (name, args) == (tasks.DELIVER_EVENTS, (endpoint_id,))

    _due_now(endpoint_id)
    assert delivery.deliver_endpoint(endpoint_id) == "empty"
    first, second = receiver.snapshot()
    assert first.event["id"] == second.event["id"] and first.body == second.body
    assert verify(secret, second.headers["Ringly-Signature"], second.body)
    [done] = _deliveries(endpoint_id)
    assert (done.status, done.attempts, done.response_status) == ("delivered", 2, 200)


def test_later_events_wait_behind_one_being_retried_then_arrive_in_order(
        app_context, receiver: Receiver, sent_tasks):
    endpoint_id, _ = _endpoint(receiver.url)
    receiver.answers = [503]
    for number in range(3):
        events.emit("message.failed", {"message_id": number})
        db.session.commit()

    delivery.deliver_endpoint(endpoint_id)
    assert [r.event["data"]["message_id"] for r in receiver.snapshot()] == [0]
    # A task woken meanwhile (a new event's) sends nothing past the waiting one.
    assert delivery.deliver_endpoint(endpoint_id) == "waiting"
    assert len(receiver.snapshot()) == 1

    _due_now(endpoint_id)
    delivery.deliver_endpoint(endpoint_id)
    assert [r.event["data"]["message_id"] for r in receiver.accepted()] == [0, 1, 2]
    assert [d.status for d in _deliveries(endpoint_id)] == ["delivered"] * 3


def test_receiver_down_then_up_loses_nothing(app_context, sent_tasks):
    receiver = Receiver()  # not listening yet: connections are refused
    endpoint_id, _ = _endpoint(receiver.url)
    for number in range(3):
        events.emit("appointment.booked", {"appointment_id": number})
        db.session.commit()
    delivery.deliver_endpoint(endpoint_id)
    _due_now(endpoint_id)
    delivery.deliver_endpoint(endpoint_id)
    head = _deliveries(endpoint_id)[0]
    assert head.attempts == 2 and head.response_status is None
    assert "could not connect" in head.error

    receiver.start()
    try:
        _due_now(endpoint_id)
        delivery.deliver_endpoint(endpoint_id)
        got = [r.event["data"]["appointment_id"] for r in receiver.accepted()]
    finally:
        receiver.stop()
    assert got == [0, 1, 2]
    assert [d.status for d in _deliveries(endpoint_id)] == ["delivered"] * 3


def test_delivery_is_given_up_after_the_retry_window_and_the_next_one_goes(
        app_context, receiver: Receiver, monkeypatch, sent_tasks):
    endpoint_id, _ = _endpoint(receiver.url)
    events.emit("number.released", {"sid": "PN1"})
    events.emit("number.released", {"sid": "PN2"})
    db.session.commit()
    first_event = db.session.scalar(sa.select(Event).order_by(Event.id).limit(1))
    first_event.created_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    receiver.answers = [500]

    delivery.deliver_endpoint(endpoint_id)
    first, second = _deliveries(endpoint_id)
    assert (first.status, first.attempts, first.next_attempt_at) == ("failed", 1, None)
    assert (second.status, second.attempts) == ("delivered", 1)


def test_every_delivery_is_tried_at_least_once_even_past_the_window(
        app_context, receiver: Receiver, monkeypatch, sent_tasks):
    monkeypatch.setitem(app_context.config, "EVENTS_RETRY_HOURS", 1e-9)
    endpoint_id, _ = _endpoint(receiver.url)
    events.emit("number.released", {"sid": "PN1"})
    db.session.commit()
    delivery.deliver_endpoint(endpoint_id)
    [sent] = _deliveries(endpoint_id)
    assert sent.status == "delivered" and len(receiver.snapshot()) == 1


def test_private_address_is_refused_again_at_delivery_time(
        app_context, receiver: Receiver, monkeypatch, sent_tasks):
    endpoint_id, _ = _endpoint(receiver.url)  # made while private addresses were allowed
    monkeypatch.setitem(app_context.config, "EVENTS_ALLOW_PRIVATE_URLS", False)
    events.emit("call.completed", {"call_sid": "CA1"})
    db.session.commit()
    delivery.deliver_endpoint(endpoint_id)
    assert receiver.snapshot() == []
    [refused] = _deliveries(endpoint_id)
    assert refused.status == "pending" and refused.attempts == 1
    assert refused.error.startswith("not sent: the URL must be an https URL")


class _Redirecting(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        self.send_response(302)
        self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_redirects_are_not_followed(app_context, sent_tasks):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirecting)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint_id, _ = _endpoint(f"http://127.0.0.1:{server.server_port}/hook")
        events.emit("call.completed", {"call_sid": "CA1"})
        db.session.commit()
        delivery.deliver_endpoint(endpoint_id)
    finally:
        server.shutdown()
        server.server_close()
    [redirected] = _deliveries(endpoint_id)
    assert redirected.status == "pending" and redirected.response_status == 302
    assert "redirects are not followed" in redirected.error


def test_answer_body_is_kept_only_up_to_its_bound(app_context, receiver: Receiver, sent_tasks):
    class Chatty(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            body = b"\x00x" * 50_000
            self.send_response(400)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:
                pass  # Ringly stops reading after 1024 bytes and closes

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Chatty)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint_id, _ = _endpoint(f"http://127.0.0.1:{server.server_port}/")
        events.emit("call.completed", {"call_sid": "CA1"})
        db.session.commit()
        delivery.deliver_endpoint(endpoint_id)
    finally:
        server.shutdown()
        server.server_close()
    [answered] = _deliveries(endpoint_id)
    assert answered.response_status == 400 and len(answered.response_body) <= 1024
    assert "\x00" not in answered.response_body


def test_an_event_rolled_back_with_its_change_is_neither_kept_nor_sent(
        app_context, receiver: Receiver, sent_tasks):
    _endpoint(receiver.url)
    sent_tasks.clear()
    events.emit("appointment.booked", {"appointment_id": 1})
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Event.id))) == 0
    assert sent_tasks == []


def test_endpoint_receives_only_the_types_it_asked_for(app_context, receiver, sent_tasks):
    wanted, _ = _endpoint(receiver.url, ["appointment.booked"])
    everything, _ = _endpoint(receiver.url, ["*"])
    events.emit("call.completed", {"call_sid": "CA1"})
    events.emit("appointment.booked", {"appointment_id": 1})
    db.session.commit()
    assert [d.event.type for d in _deliveries(wanted)] == ["appointment.booked"]
    assert [d.event.type for d in _deliveries(everything)] == ["call.completed",
                                                               "appointment.booked"]


def test_sweep_sends_what_is_due_and_leaves_what_waits(app_context, receiver, sent_tasks):
    due, _ = _endpoint(receiver.url)
    waiting, _ = _endpoint(receiver.url)
    events.emit("call.completed", {"call_sid": "CA1"})
    db.session.commit()
    db.session.execute(sa.update(EventDelivery).where(EventDelivery.endpoint_id == waiting)
                       .values(next_attempt_at=utcnow() + timedelta(hours=1)))
    db.session.commit()
    sent_tasks.clear()
    assert delivery.sweep_deliveries() == 1
    assert sent_tasks == [(tasks.DELIVER_EVENTS, (due,))]


def test_a_held_lease_keeps_a_second_worker_out(app_context, receiver, sent_tasks):
    endpoint_id, _ = _endpoint(receiver.url)
    events.emit("call.completed", {"call_sid": "CA1"})
    db.session.commit()
    token = delivery._claim(endpoint_id)
    assert token is not None
    assert delivery.deliver_endpoint(endpoint_id) == "busy"
    assert receiver.snapshot() == []
    delivery._release(endpoint_id, token)
    assert delivery.deliver_endpoint(endpoint_id) == "empty"
    assert len(receiver.snapshot()) == 1


def test_event_data_is_stored_as_the_json_that_is_sent(app_context, sent_tasks):
    when = utcnow()
    event = events.emit("call.completed", {"when": when, "amount": Decimal("1.15")})
    db.session.commit()
    assert json.loads(delivery.event_body(event))["data"] == {
        "when": when.isoformat(), "amount": "1.15"}
