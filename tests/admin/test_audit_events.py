"""The audit log: every purchase, release, quarantine, webhook repair, settings change and key
change is recorded with who did it, and an admin key reads it page by page."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from ringly.admin.models import AuditEvent
from ringly.admin.scopes import SCOPES
from ringly.admin.services import create_api_key, record_event
from ringly.db import db
from tests.provisioning.conftest import provisioned_client


def _admin(name: str = "ops") -> tuple[int, dict[str, str]]:
    api_key, raw_key = create_api_key(name, SCOPES)
    return api_key.id, {"Authorization": f"Bearer {raw_key}"}


def _events(client, headers, **query) -> list[dict]:
    response = client.get("/api/audit-events", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_number_and_settings_changes_name_the_key_that_made_them(client, prov, sandbox):
    key_id, headers = _admin()
    client_id, _ = provisioned_client()
    other_id, _ = provisioned_client(area_code="312", name="Other Salon")
    assert client.patch(f"/api/clients/{client_id}", headers=headers,
                        json={"custom_greeting": "Welcome to Bella"}).status_code == 200
    assert client.put(f"/api/clients/{client_id}/number/webhooks",
                      headers=headers).status_code == 200
    assert client.delete(f"/api/clients/{client_id}/number", headers=headers,
                         query_string={"quarantine_days": 3}).status_code == 200
    assert client.delete(f"/api/clients/{other_id}/number", headers=headers).status_code == 200

    events = _events(client, headers, client_id=client_id)
    kinds = [event["kind"] for event in events]
    assert kinds[:3] == ["number.quarantined", "number.webhooks_applied", "client.updated"]
    assert "number.purchased" in kinds
    for event in events[:3]:
        assert event["actor"] == "api key ops" and event["api_key_id"] == key_id
        assert event["client_id"] == client_id
    updated = next(event for event in events if event["kind"] == "client.updated")
    assert updated["data"]["after"] == {"custom_greeting": "Welcome to Bella"}
    assert set(updated["data"]["before"]) == {"custom_greeting"}
    purchase = next(event for event in events if event["kind"] == "number.purchased")
    assert purchase["api_key_id"] is None and purchase["actor"] == "system"

    released = _events(client, headers, client_id=other_id, kind="number.released")
    assert len(released) == 1 and released[0]["actor"] == "api key ops"


def test_key_creation_and_revocation_by_the_cli_are_recorded(app, client, prov):
    _, headers = _admin()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["keys", "create", "partner", "--scope", "read"]).exit_code == 0
    assert runner.invoke(args=["keys", "revoke", "partner"]).exit_code == 0
    events = _events(client, headers, kind="api_key.revoked") + _events(
        client, headers, kind="api_key.created")
    assert [(event["kind"], event["actor"]) for event in events[:2]] == [
        ("api_key.revoked", "cli keys revoke"), ("api_key.created", "cli keys create")]
    assert events[1]["data"] == {"scopes": ["read"]}
    assert events[0]["subject_type"] == "api_keys" and events[0]["subject_id"]


def test_events_come_newest_first_in_pages_that_keep_the_filters(client, prov):
    _, headers = _admin()
    for number in range(5):
        record_event("client.updated", f"change {number}", client_id=7)
    record_event("client.updated", "someone else's", client_id=8)
    db.session.commit()

    first = client.get("/api/audit-events", headers=headers,
                       query_string={"client_id": 7, "limit": 2})
    assert [event["message"] for event in first.get_json()] == ["change 4", "change 3"]
    link = first.headers["Link"]
    assert link.endswith('>; rel="next"') and "client_id=7" in link
    seen = [event["message"] for event in first.get_json()]
    next_url = link[1:link.index(">")]
    while next_url:
        page = client.get(next_url, headers=headers)
        seen += [event["message"] for event in page.get_json()]
        link = page.headers.get("Link")
        next_url = link[1:link.index(">")] if link else None
    assert seen == [f"change {number}" for number in (4, 3, 2, 1, 0)]


def test_events_are_filtered_by_kind_and_time(client, prov):
    _, headers = _admin()
    now = datetime.now(UTC)
    for hours_ago, kind in ((30, "number.released"), (5, "number.released"),
                            (1, "number.purchased")):
        event = record_event(kind, f"{kind} {hours_ago}h ago")
        event.created_at = now - timedelta(hours=hours_ago)
    db.session.commit()
    day = _events(client, headers, kind="number.released",
                  **{"from": (now - timedelta(hours=24)).isoformat()})
    assert [event["message"] for event in day] == ["number.released 5h ago"]
    earlier = _events(client, headers, to=(now - timedelta(hours=2)).isoformat(),
                      kind="number.released")
    assert [event["message"] for event in earlier] == ["number.released 5h ago",
                                                       "number.released 30h ago"]


def test_bad_filters_and_cursors_are_422_problems(client, prov):
    _, headers = _admin()
    for query in ({"cursor": "made-up"}, {"kind": "DROP TABLE"}, {"client_id": 0},
                  {"from": "2026-01-02T00:00:00+00:00", "to": "2026-01-01T00:00:00+00:00"},
                  {"from": "yesterday"}):
        response = client.get("/api/audit-events", headers=headers, query_string=query)
        assert response.status_code == 422, query
        assert response.mimetype == "application/problem+json"


def test_an_event_takes_its_client_from_its_subject(prov):
    client_id, sid = provisioned_client()
    from ringly.provisioning.models import PhoneNumber

    number = db.session.scalar(sa.select(PhoneNumber).where(PhoneNumber.sid == sid))
    event = record_event("number.checked", "checked", subject=number)
    db.session.commit()
    assert (event.client_id, event.subject_type, event.subject_id) == (
        client_id, "phone_numbers", str(number.id))
    assert db.session.get(AuditEvent, event.id).actor == "system"


def test_a_purchase_names_the_key_that_asked_for_the_number(client, prov, sandbox):
    from ringly.provisioning import saga
    from ringly.provisioning.exceptions import RetryLater

    key_id, headers = _admin()
    response = client.post("/api/clients/provision", headers=headers, json={
        "business_name": "Bella Salon", "email": "owner@bella.example", "areaCode": "415"})
    assert response.status_code == 202
    try:
        saga.advance(response.get_json()["job"]["id"])  # what the worker runs
    except RetryLater:
        pass  # stopped at verification: the number is bought
    requested, = _events(client, headers, kind="provisioning.requested")
    purchased, = _events(client, headers, kind="number.purchased")
    assert requested["actor"] == "api key ops" and requested["api_key_id"] == key_id
    assert purchased["actor"] == "system for api key ops" and purchased["api_key_id"] == key_id
    assert purchased["client_id"] == requested["client_id"] is not None
