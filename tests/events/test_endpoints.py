"""The event API: endpoints made (secret shown once), listed, deleted; URLs that would let a key
reach Ringly's own network refused (SSRF); events and deliveries shown."""
from __future__ import annotations

import ipaddress
import socket

import pytest
import sqlalchemy as sa

from ringly import events
from ringly.admin.models import AuditEvent
from ringly.db import db
from ringly.events import delivery
from ringly.events.addresses import UnsafeUrl, is_public, resolve
from ringly.events.models import EventDelivery
from tests.events.conftest import create_endpoint

PRIVATE_URLS = [
    "http://crm.example.com/hook",  # not https
    "https://127.0.0.1/hook",
    "https://10.1.2.3/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/hook",
    "https://localhost/hook",  # a name that resolves to 127.0.0.1
    "https://[::ffff:127.0.0.1]/hook",
    "https://[fe80::1]/hook",
    "https://192.168.0.10:8443/hook",
    "https://100.64.0.1/hook",
    "https://0.0.0.0/hook",
    "https://2130706433/hook",  # 127.0.0.1 written as one number
    "https://user:pass@crm.example.com/hook",
]


@pytest.fixture
def no_private_urls(app, monkeypatch):
    # The test session allows receivers on 127.0.0.1; production does not.
    monkeypatch.setitem(app.config, "EVENTS_ALLOW_PRIVATE_URLS", False)


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_url_that_is_not_https_to_a_public_address_is_refused(
        client, api_headers, no_private_urls, url):
    response = client.post("/api/event-endpoints", headers=api_headers,
                           json={"url": url, "events": ["*"]})
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert response.mimetype == "application/problem+json" and "url" in body["errors"]
    assert client.get("/api/event-endpoints", headers=api_headers).get_json() == []


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1",
                                     "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
                                     "::1", "fe80::1", "fc00::1", "::ffff:10.0.0.1",
                                     "::ffff:169.254.169.254", "2002:7f00:1::", "::7f00:1",
                                     "64:ff9b::a00:1", "ff02::1", "::"])
def test_private_loopback_link_local_and_embedded_addresses_are_not_public(address):
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_global_addresses_are_public(address):
    assert is_public(ipaddress.ip_address(address))


def test_private_urls_are_allowed_when_the_setting_allows_them(client, api_headers):
    # The session's EVENTS_ALLOW_PRIVATE_URLS=true, as on the embedded default.
    for url in ("http://127.0.0.1:9/hook", "https://localhost/hook", "http://10.0.0.1/"):
        create_endpoint(client, api_headers, url)


def test_a_host_that_resolves_to_any_private_address_is_refused(monkeypatch):
    # One public address and one IPv4-mapped private one: the private one decides.
    answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443)),
               (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::ffff:10.0.0.7", 443, 0, 0))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)
    with pytest.raises(UnsafeUrl, match="10.0.0.7"):
        resolve("https://crm.example.com/hook", allow_private=False)
    assert resolve("https://crm.example.com/hook", allow_private=True).addresses == (
        "93.184.215.14", "::ffff:10.0.0.7")


def test_a_host_not_in_dns_yet_is_accepted_and_checked_when_delivered(
        app, client, api_headers, no_private_urls, sent_tasks):
    made = create_endpoint(client, api_headers, "https://not-yet.invalid/hook")
    with app.app_context():
        events.emit("call.completed", {"call_sid": "CA1"})
        db.session.commit()
        delivery.deliver_endpoint(made["id"])
        attempt = db.session.scalar(sa.select(EventDelivery))
        assert attempt.status == "pending" and "does not resolve" in attempt.error
        db.session.remove()


def test_secret_is_shown_once_and_never_again(client, api_headers):
    made = create_endpoint(client, api_headers, "http://127.0.0.1:9/hook",
                           ["appointment.booked", "appointment.booked", "call.completed"])
    assert made["secret"].startswith("whsec_") and len(made["secret"]) > 40
    assert made["events"] == ["appointment.booked", "call.completed"]
    one = client.get(f"/api/event-endpoints/{made['id']}", headers=api_headers)
    listed = client.get("/api/event-endpoints", headers=api_headers).get_json()
    assert one.status_code == 200 and "secret" not in one.get_json()
    assert [row["id"] for row in listed] == [made["id"]] and "secret" not in listed[0]
    listed_raw = client.get("/api/event-endpoints", headers=api_headers).data
    assert made["secret"].encode() not in one.data + listed_raw


def test_star_means_every_type(client, api_headers):
    made = create_endpoint(client, api_headers, "http://127.0.0.1:9/", ["call.completed", "*"])
    assert made["events"] == ["*"]


@pytest.mark.parametrize("body", [
    {"url": "https://crm.example.com/", "events": []},
    {"url": "https://crm.example.com/", "events": ["number.bought"]},
    {"url": "https://crm.example.com/", "events": "*"},
    {"url": "ftp://crm.example.com/", "events": ["*"]},
    {"url": "https://crm.example.com/" + "a" * 2100, "events": ["*"]},
    {"events": ["*"]},
    {"url": "https://crm.example.com/", "events": ["*"], "description": "d" * 256},
    {"url": "https://crm.example.com/", "events": ["*"], "secret": "mine"},
])
def test_invalid_endpoint_bodies_are_refused(client, api_headers, body):
    response = client.post("/api/event-endpoints", headers=api_headers, json=body)
    assert response.status_code == 422, response.get_json()


def test_endpoints_need_the_admin_scope(app, client):
    from ringly.admin.services import create_api_key

    with app.app_context():
        _, raw = create_api_key("reader", ["read", "provision"])
        db.session.remove()
    headers = {"Authorization": f"Bearer {raw}"}
    refused = client.post("/api/event-endpoints", headers=headers,
                          json={"url": "http://127.0.0.1:9/", "events": ["*"]})
    assert refused.status_code == 403 and refused.get_json()["required_scope"] == "admin"
    assert client.get("/api/events", headers=headers).status_code == 200


def test_list_pages_newest_first(client, api_headers):
    ids = [create_endpoint(client, api_headers, f"http://127.0.0.1:9/{n}")["id"]
           for n in range(3)]
    first = client.get("/api/event-endpoints?limit=2", headers=api_headers)
    second = client.get(f"/api/event-endpoints?limit=2&cursor={first.headers['X-Next-Cursor']}",
                        headers=api_headers)
    assert [row["id"] for row in first.get_json() + second.get_json()] == ids[::-1]
    assert "X-Next-Cursor" not in second.headers


def test_delete_cancels_what_was_not_delivered_and_is_audited(app, client, api_headers,
                                                             sent_tasks):
    made = create_endpoint(client, api_headers, "http://127.0.0.1:9/hook")
    with app.app_context():
        events.emit("call.completed", {"call_sid": "CA1"})
        db.session.commit()
    assert client.delete(f"/api/event-endpoints/{made['id']}",
                         headers=api_headers).status_code == 204
    assert client.get(f"/api/event-endpoints/{made['id']}",
                      headers=api_headers).status_code == 404
    assert client.delete(f"/api/event-endpoints/{made['id']}",
                         headers=api_headers).status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(EventDelivery.status)) == "cancelled"
        assert delivery.deliver_endpoint(made["id"]) == "busy"  # a deleted endpoint is not held
        kinds = set(db.session.scalars(sa.select(AuditEvent.kind)))
        assert {"event_endpoint.created", "event_endpoint.deleted"} <= kinds
        db.session.remove()


def test_events_and_deliveries_show_what_was_sent_answered_and_retried(
        app, client, api_headers, receiver, sent_tasks):
    made = create_endpoint(client, api_headers, receiver.url)
    receiver.answers = [500]
    with app.app_context():
        events.emit("appointment.booked", {"appointment_id": 5}, client_id=3)
        events.emit("call.completed", {"call_sid": "CA9"}, client_id=4)
        db.session.commit()
        delivery.deliver_endpoint(made["id"])
        db.session.remove()

    listed = client.get("/api/events", headers=api_headers).get_json()
    assert [e["type"] for e in listed] == ["call.completed", "appointment.booked"]
    booked = listed[1]
    assert booked["id"].startswith("evt_") and booked["client_id"] == 3
    assert booked["data"] == {"appointment_id": 5}
    [summary] = booked["deliveries"]
    assert summary["endpoint_id"] == made["id"] and summary["status"] == "pending"
    assert summary["attempts"] == 1 and summary["response_status"] == 500
    assert summary["next_attempt_at"]
    only = client.get("/api/events?type=call.completed&client_id=4", headers=api_headers)
    assert [e["data"] for e in only.get_json()] == [{"call_sid": "CA9"}]

    sent = client.get(f"/api/event-endpoints/{made['id']}/deliveries",
                      headers=api_headers).get_json()
    assert [d["event"]["type"] for d in sent] == ["call.completed", "appointment.booked"]
    retried = sent[1]
    assert retried["event"] == {"id": booked["id"], "type": "appointment.booked",
                                "created_at": retried["event"]["created_at"],
                                "data": {"appointment_id": 5}}
    assert retried["response_body"] == "receiver failed: try again"
    assert retried["attempts"] == 1 and retried["next_attempt_at"]
    waiting = client.get(f"/api/event-endpoints/{made['id']}/deliveries?status=pending",
                         headers=api_headers).get_json()
    assert len(waiting) == 2  # the second waits behind the first, unsent
    assert waiting[0]["attempts"] == 0
    assert client.get("/api/event-endpoints/999/deliveries",
                      headers=api_headers).status_code == 404
