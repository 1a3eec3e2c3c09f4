"""A client's booking rules through PATCH/GET /api/clients/<id>: stored and shown, each bounded
as the OpenAPI document says, closed date ranges checked strictly, and a 422 naming the field."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from ringly.admin.models import AuditEvent
from ringly.clients.models import Client
from ringly.db import db

RULES = ("slot_minutes", "buffer_minutes", "min_notice_minutes", "horizon_days", "max_per_slot")


@pytest.fixture
def shop_id(app_context) -> int:
    shop = Client(business_name="Shop", email="s@example.com")
    db.session.add(shop)
    db.session.commit()
    return shop.id


def test_a_new_client_has_the_documented_defaults(client, api_headers, shop_id):
    body = client.get(f"/api/clients/{shop_id}", headers=api_headers).get_json()
    assert {name: body[name] for name in (*RULES, "closed_dates")} == {
        "slot_minutes": 30, "buffer_minutes": 0, "min_notice_minutes": 60, "horizon_days": 90,
        "max_per_slot": 1, "closed_dates": []}


def test_patch_sets_every_booking_rule_and_records_the_change(client, api_headers, shop_id):
    rules = {"slot_minutes": 45, "buffer_minutes": 15, "min_notice_minutes": 1440,
             "horizon_days": 30, "max_per_slot": 3,
             "closed_dates": [{"from": "2026-12-25"}, {"from": "2026-12-31", "to": "2027-01-01"}]}
    response = client.patch(f"/api/clients/{shop_id}", headers=api_headers, json=rules)
    assert response.status_code == 200, response.get_json()
    shown = client.get(f"/api/clients/{shop_id}", headers=api_headers).get_json()
    # A single day is stored as a range of one day.
    expected = {**rules, "closed_dates": [{"from": "2026-12-25", "to": "2026-12-25"},
                                          {"from": "2026-12-31", "to": "2027-01-01"}]}
    assert {name: shown[name] for name in expected} == expected
    assert response.get_json()["closed_dates"] == expected["closed_dates"]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.kind == "client.updated"))
    assert event.data["before"]["max_per_slot"] == 1 and event.data["after"]["max_per_slot"] == 3
    cleared = client.patch(f"/api/clients/{shop_id}", headers=api_headers,
                           json={"closed_dates": []})
    assert cleared.get_json()["closed_dates"] == []


@pytest.mark.parametrize(("name", "low", "high"), [
    ("slot_minutes", 5, 480), ("buffer_minutes", 0, 240), ("min_notice_minutes", 0, 43200),
    ("horizon_days", 1, 730), ("max_per_slot", 1, 50)])
def test_each_rule_is_bounded_and_a_422_names_it(client, api_headers, shop_id, name, low, high):
    for good in (low, high):
        response = client.patch(f"/api/clients/{shop_id}", headers=api_headers,
                                json={name: good})
        assert response.status_code == 200 and response.get_json()[name] == good
    for bad in (low - 1, high + 1, str(low), True, low + 0.5, None):
        response = client.patch(f"/api/clients/{shop_id}", headers=api_headers, json={name: bad})
        assert response.status_code == 422, (bad, response.get_json())
        assert response.mimetype == "application/problem+json"
        assert set(response.get_json()["errors"]) == {name}
    db.session.expire_all()
    assert getattr(db.session.get(Client, shop_id), name) == high


@pytest.mark.parametrize(("closed", "where"), [
    ([{"from": "2026-12-26", "to": "2026-12-24"}], {"0": {"to": ["must not be before `from`"]}}),
    ([{"from": "2026-12-24"}, {"from": "2026-02-30"}], {"1": {"from": ["not a date of the "
                                                                        "calendar"]}}),
    ([{"from": "2026-12-24", "to": "2026-12-24T10:00:00"}], {"0": {"to": None}}),
    ([{"from": "24/12/2026"}], {"0": {"from": None}}),
    ([{"to": "2026-12-24"}], {"0": {"from": None}}),
    ([{"from": "2026-12-24", "reason": "Christmas"}], {"0": {"reason": None}}),
    (["2026-02-30"], {"0": None}),  # a day alone is checked as a range's ends are
    (["24/12/2026"], {"0": None}),
    (["2026-12-24T10:00:00"], {"0": None}),
    ([20261224], {"0": None}),
    ([["2026-12-24", "2026-12-26"]], {"0": None}),
    (["2026-12-24", {"from": "2026-12-26", "to": "2026-12-25"}], {"1": {"to": None}}),
    ("2026-12-24/2026-12-26", None),
    ([{"from": "2027-01-01"}] * 101, None),
])
def test_closed_dates_are_checked_strictly(client, api_headers, shop_id, closed, where):
    response = client.patch(f"/api/clients/{shop_id}", headers=api_headers,
                            json={"closed_dates": closed, "max_per_slot": 2})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == {"closed_dates"}
    for index, fields in (where or {}).items():
        assert index in errors["closed_dates"]
        for field, messages in (fields or {}).items():
            assert field in errors["closed_dates"][index]
            assert messages is None or errors["closed_dates"][index][field] == messages
    db.session.expire_all()
    shop = db.session.get(Client, shop_id)
    assert shop.closed_dates == [] and shop.max_per_slot == 1  # nothing of it was stored


def test_a_closed_day_may_be_given_as_a_plain_date_and_is_shown_as_a_range(
        client, api_headers, shop_id):
    closed = ["2026-12-25", {"from": "2026-12-31", "to": "2027-01-01"}, {"from": "2027-01-06"}]
    response = client.patch(f"/api/clients/{shop_id}", headers=api_headers,
                            json={"closed_dates": closed})
    assert response.status_code == 200, response.get_json()
    expected = [{"from": "2026-12-25", "to": "2026-12-25"},
                {"from": "2026-12-31", "to": "2027-01-01"},
                {"from": "2027-01-06", "to": "2027-01-06"}]
    assert response.get_json()["closed_dates"] == expected
    assert client.get(f"/api/clients/{shop_id}",
                      headers=api_headers).get_json()["closed_dates"] == expected
    db.session.expire_all()
    assert db.session.get(Client, shop_id).closed_dates == expected


def test_the_document_says_a_closed_day_is_a_date_or_a_range(client):
    document = client.get("/api/openapi.json").get_json()
    items = document["components"]["schemas"]["Client"]["properties"]["closed_dates"]["items"]
    day, span = items["oneOf"]
    assert (day["type"], day["format"], day["pattern"]) == ("string", "date",
                                                            r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    assert span["type"] == "object" and span["required"] == ["from"]
    assert set(span["properties"]) == {"from", "to"} and span["additionalProperties"] is False
    assert span["properties"]["from"]["format"] == "date"


def test_the_document_states_each_rules_bounds(client):
    document = client.get("/api/openapi.json").get_json()
    properties = document["components"]["schemas"]["Client"]["properties"]
    assert {name: (properties[name]["minimum"], properties[name]["maximum"]) for name in RULES} == {
        "slot_minutes": (5, 480), "buffer_minutes": (0, 240), "min_notice_minutes": (0, 43200),
        "horizon_days": (1, 730), "max_per_slot": (1, 50)}
    assert properties["closed_dates"]["maxItems"] == 100
