"""End to end: a real worker process delivers the events of a real provision and a booked call
to a receiver on 127.0.0.1; every signature verifies with the recipe in docs/events.md, failing
answers are retried with the same event id, and nothing is lost while the receiver is down."""
from __future__ import annotations

import time

import pytest
import requests
import sqlalchemy as sa

from ringly.clients.models import Client
from ringly.db import db
from ringly.events.models import Event
from tests.events.conftest import Receiver, create_endpoint
from tests.voice.conftest import EVERY_DAY

pytestmark = pytest.mark.e2e

BODY = {"business_name": "Bella Salon", "email": "owner@bella.example", "areaCode": "415"}
CALLER = "+13125550142"
BOOKING = [{"digits": "1"}, {"digits": "1"}, {"speech": "Maria Lopez"}, {"digits": "1"},
           {"speech": "tomorrow at 10 am"}, {"digits": "1"}]


def _provision(client, headers) -> dict:
    response = client.post("/api/clients/provision", json=BODY,
                           headers={**headers, "Prefer": "wait=10"})
    job_id = response.get_json().get("job_id") or response.get_json()["job"]["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = client.get(f"/api/provisioning-jobs/{job_id}", headers=headers).get_json()
        if job["status"] in ("completed", "failed"):
            assert job["status"] == "completed", job
            return job["result"]["client"]
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not end")


def _open_every_day(app, client_id: int) -> None:
    with app.app_context():
        customer = db.session.get(Client, client_id)
        customer.timezone, customer.business_hours = "America/Chicago", EVERY_DAY
        db.session.commit()
        db.session.remove()


def _types(received) -> list[str]:
    return [item.event["type"] for item in received]


def _deliveries(client, headers, endpoint_id: int) -> list[dict]:
    response = client.get(f"/api/event-endpoints/{endpoint_id}/deliveries?limit=200",
                          headers=headers)
    assert response.status_code == 200
    return response.get_json()


def _wait_for_deliveries(client, headers, endpoint_id, condition, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = _deliveries(client, headers, endpoint_id)
        if condition(rows):
            return rows
        time.sleep(0.2)
    raise AssertionError(f"deliveries never {what}: {_deliveries(client, headers, endpoint_id)}")


def test_provision_and_booking_events_arrive_signed_retried_and_none_lost(
        app, client, api_headers, prov, sandbox, celery_worker, receiver: Receiver, verify):
    endpoint = create_endpoint(client, api_headers, receiver.url)
    secret, endpoint_id = endpoint["secret"], endpoint["id"]
    receiver.answers = [500, 503]  # the receiver fails its first two answers

    # A real provision, bought and verified by the worker.
    customer = _provision(client, api_headers)
    receiver.wait_until(lambda got: "number.provisioned" in _types(
        [r for r in got if r.answered == 200]), what="number.provisioned answered 200")

    # A caller books on the new number (the sandbox plays Twilio against the live app).
    _open_every_day(app, customer["id"])
    call = requests.post(f"{sandbox.url}/sandbox/calls", timeout=60, json={
        "to": customer["ringlypro_number"], "from": CALLER, "inputs": BOOKING}).json()
    assert "You're booked for" in " | ".join(call["heard"]), call
    receiver.wait_until(lambda got: {"appointment.booked", "call.completed"} <= set(_types(
        [r for r in got if r.answered == 200])), what="appointment.booked and call.completed")

    received = receiver.snapshot()
    assert all(verify(secret, r.headers["Ringly-Signature"], r.body) for r in received)
    failed = [r for r in received if r.answered >= 500]
    assert [r.event["type"] for r in failed] == ["number.provisioned"] * 2
    # Retried: the same event (id and body) again, until it was answered 200.
    [accepted] = [r for r in receiver.accepted() if r.event["type"] == "number.provisioned"]
    assert {r.body for r in failed} == {accepted.body}
    assert accepted.event["data"]["client_id"] == customer["id"]
    shown = {d["event"]["type"]: d for d in _deliveries(client, api_headers, endpoint_id)}
    assert shown["number.provisioned"]["attempts"] == 3
    assert shown["number.provisioned"]["status"] == "delivered"

    # The receiver goes down; events keep happening; it comes back; none is lost.
    receiver.stop()
    number_path = f"/api/clients/{customer['id']}/number"
    assert client.put(f"{number_path}/webhooks", headers=api_headers).status_code == 200
    assert client.delete(number_path, headers=api_headers).status_code == 200
    _wait_for_deliveries(
        client, api_headers, endpoint_id,
        lambda rows: any(d["attempts"] >= 2 and d["status"] == "pending" for d in rows),
        "failed twice while the receiver was down")
    down = {d["event"]["type"]: d for d in _deliveries(client, api_headers, endpoint_id)}
    assert "could not connect" in down["number.webhooks_repaired"]["error"]
    assert down["number.released"]["attempts"] == 0  # waits behind the earlier event

    receiver.start()
    rows = _wait_for_deliveries(client, api_headers, endpoint_id,
                                lambda rows: all(d["status"] == "delivered" for d in rows),
                                "all delivered after the receiver came back")
    with app.app_context():
        recorded = list(db.session.scalars(sa.select(Event.uid).order_by(Event.id)))
        db.session.remove()
    assert len(rows) == len(recorded)
    # Every event arrived (at least once), and in the order they happened.
    first_arrivals = list(dict.fromkeys(r.event["id"] for r in receiver.accepted()))
    assert first_arrivals == recorded
    assert all(verify(secret, r.headers["Ringly-Signature"], r.body)
               for r in receiver.snapshot())
