"""The original client routes: search, a client's number, webhooks, release, listing, settings."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from ringly.admin.models import AuditEvent
from ringly.clients.models import Client
from ringly.db import db
from ringly.paging import encode_cursor
from ringly.provisioning.models import PhoneNumber
from tests.provisioning.conftest import provisioned_client


def test_search_numbers_answers_the_original_shape(client, api_headers, prov):
    response = client.post("/api/clients/search-numbers", headers=api_headers,
                           json={"areaCode": "415", "limit": 3})
    assert response.status_code == 200
    body = response.get_json()
    assert body["success"] is True and body["count"] == 3
    first = body["numbers"][0]
    assert set(first) == {"phoneNumber", "friendlyName", "locality", "region", "postalCode",
                          "capabilities"}
    assert first["phoneNumber"].startswith("+1415")


def test_search_numbers_validates_limit_and_area_code(client, api_headers, prov):
    response = client.post("/api/clients/search-numbers", headers=api_headers,
                           json={"areaCode": "4155", "limit": 31})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"areaCode", "limit"}


def test_search_numbers_turns_twilio_outage_into_503_with_code(client, api_headers, prov,
                                                                sandbox):
    sandbox.set_faults(rate_503=1.0, only=["search"])
    response = client.post("/api/clients/search-numbers", headers=api_headers,
                           json={"areaCode": "415"})
    assert response.status_code == 503
    assert response.get_json()["twilio_code"] == 20503
    assert "Retry-After" in response.headers


def test_client_number_shows_live_twilio_details(client, api_headers, prov):
    client_id, sid = provisioned_client()
    response = client.get(f"/api/clients/{client_id}/number", headers=api_headers)
    assert response.status_code == 200
    number = response.get_json()["number"]
    assert number["sid"] == sid
    assert number["voiceUrl"].endswith("/voice/rachel/")
    assert number["smsUrl"].endswith("/webhook/twilio/sms")


def test_put_webhooks_reapplies_the_whole_configuration(client, api_headers, prov, sandbox):
    from ringly.telephony import WebhookConfig, get_gateway

    client_id, sid = provisioned_client()
    get_gateway().update_webhooks(sid, WebhookConfig(voice_url="https://old.example/voice"))
    for _ in range(2):  # idempotent
        response = client.put(f"/api/clients/{client_id}/number/webhooks", headers=api_headers)
        assert response.status_code == 200
    hooks = response.get_json()["webhooks"]
    assert hooks["voiceFallbackUrl"].endswith("/voice/fallback")
    assert hooks["statusCallback"].endswith("/webhook/twilio/status")
    owned = {n["sid"]: n for n in sandbox.owned_numbers()}[sid]
    assert owned["status_callback"].endswith("/webhook/twilio/status")
    assert owned["voice_fallback_url"] != owned["voice_url"]


def test_account_numbers_are_paged_and_marked(client, api_headers, prov):
    from ringly.telephony import WebhookConfig, get_gateway

    for code in ("415", "212", "512"):
        provisioned_client(code)
    stray = get_gateway().search_available(area_code="303", limit=1)[0].phone_number
    get_gateway().purchase(phone_number=stray, friendly_name="bought by hand",
                           webhooks=WebhookConfig())
    seen, token = [], None
    while True:
        query = {"page_size": 2, **({"page_token": token} if token else {})}
        body = client.get("/api/clients/numbers/all", query_string=query,
                          headers=api_headers).get_json()
        assert body["count"] <= 2
        seen += body["numbers"]
        token = body["next_page_token"]
        if not token:
            break
    assert len(seen) == 4
    assert sorted(n["assigned"] for n in seen) == [False, True, True, True]
    bad = client.get("/api/clients/numbers/all", query_string={"page_token": "bogus"},
                     headers=api_headers)
    assert bad.status_code == 422
    assert client.get("/api/clients/numbers/all", query_string={"page_size": 101},
                      headers=api_headers).status_code == 422


def _walk(client, api_headers, url):
    """Follow `Link: <...>; rel="next"` from `url` to the last page; every page's body."""
    pages = []
    while url:
        response = client.get(url, headers=api_headers)
        assert response.status_code == 200, response.get_json()
        pages.append(response.get_json())
        link = response.headers.get("Link")
        assert (link is None) == (response.headers.get("X-Next-Cursor") is None)
        if link:
            assert link.endswith('>; rel="next"')
            url = link[1:link.index(">")]
            assert parse_qs(urlsplit(url).query)["cursor"] == [response.headers["X-Next-Cursor"]]
        else:
            url = None
    return pages


def _tampered(cursor: str) -> str:
    payload, _, signature = cursor.partition(".")
    return f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"


def test_account_numbers_page_by_cursor_and_link_without_gaps_or_repeats(
        client, api_headers, prov, sandbox):
    for code in ("415", "212", "512", "303", "617"):
        provisioned_client(code)
    pages = _walk(client, api_headers, "/api/clients/numbers/all?limit=2")
    assert [body["count"] for body in pages] == [2, 2, 1]
    sids = [number["sid"] for body in pages for number in body["numbers"]]
    assert len(sids) == len(set(sids)) == 5
    assert set(sids) == {number["sid"] for number in sandbox.owned_numbers()}
    # The original's fields stay, with its token beside the cursor.
    assert all(set(body) == {"success", "count", "numbers", "next_page_token"} for body in pages)
    assert [body["next_page_token"] is None for body in pages] == [False, False, True]
    # Started the original way (page_size), the Link goes on with the same page size.
    first = client.get("/api/clients/numbers/all?page_size=3", headers=api_headers)
    assert "limit=3" in first.headers["Link"]


def test_a_number_list_cursor_that_was_altered_or_is_from_another_list_is_a_422(
        client, api_headers, prov):
    for code in ("415", "212"):
        provisioned_client(code)
    cursor = client.get("/api/clients/numbers/all?limit=1",
                        headers=api_headers).headers["X-Next-Cursor"]
    clients_cursor = client.get("/api/clients?limit=1",
                                headers=api_headers).headers["X-Next-Cursor"]
    for query in ({"cursor": _tampered(cursor)}, {"cursor": clients_cursor},
                  {"cursor": cursor, "page_token": "L2Fw"}, {"limit": 2, "page_size": 2}):
        response = client.get("/api/clients/numbers/all", query_string=query,
                              headers=api_headers)
        assert response.status_code == 422, query
        assert response.mimetype == "application/problem+json"
        assert set(response.get_json()["errors"]) & {"cursor", "page_token", "page_size"}


def test_delete_releases_the_number_and_records_it(client, api_headers, prov, sandbox):
    client_id, sid = provisioned_client()
    response = client.delete(f"/api/clients/{client_id}/number", headers=api_headers)
    assert response.status_code == 200
    assert response.get_json()["status"] == "released"
    db.session.remove()
    number = db.session.scalar(sa.select(PhoneNumber).where(PhoneNumber.sid == sid))
    owner = db.session.get(Client, client_id)
    assert number.status == "released" and number.released_at is not None
    assert owner.ringlypro_number is None and owner.rachel_enabled is False
    assert sandbox.owned_numbers() == []
    again = client.delete(f"/api/clients/{client_id}/number", headers=api_headers)
    assert again.status_code == 404


def test_delete_with_quarantine_keeps_the_number_until_the_release_task(
    client, api_headers, prov, sandbox
):
    from datetime import UTC, datetime, timedelta

    from ringly.provisioning.lifecycle import release_due_quarantined

    client_id, sid = provisioned_client()
    response = client.delete(f"/api/clients/{client_id}/number",
                             query_string={"quarantine_days": 7}, headers=api_headers)
    assert response.get_json()["status"] == "quarantined"
    assert len(sandbox.owned_numbers()) == 1
    assert release_due_quarantined() == 0  # not due yet
    number = db.session.scalar(sa.select(PhoneNumber).where(PhoneNumber.sid == sid))
    number.quarantined_until = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    assert release_due_quarantined() == 1
    assert sandbox.owned_numbers() == []


def _shops(count: int) -> None:
    for index in range(count):
        db.session.add(Client(business_name=f"Shop {index}", email="s@example.com",
                              active=index != 4))
        db.session.flush()  # ids in the order added
    db.session.commit()


def test_clients_are_listed_newest_first_in_pages_and_filtered(client, api_headers, prov):
    _shops(5)
    page = client.get("/api/clients", query_string={"limit": 2}, headers=api_headers).get_json()
    assert [c["business_name"] for c in page["clients"]] == ["Shop 4", "Shop 3"]
    assert page["count"] == 2
    rest = client.get("/api/clients", query_string={"limit": 10, "after": page["next_after"]},
                      headers=api_headers).get_json()
    assert [c["business_name"] for c in rest["clients"]] == ["Shop 2", "Shop 1", "Shop 0"]
    assert rest["next_after"] is None
    inactive = client.get("/api/clients", query_string={"active": "false"},
                          headers=api_headers).get_json()
    assert [c["business_name"] for c in inactive["clients"]] == ["Shop 4"]


def test_clients_page_by_cursor_and_link_keeping_the_filters(client, api_headers, prov):
    _shops(7)
    pages = _walk(client, api_headers, "/api/clients?limit=2&active=true&junk=1")
    assert [body["count"] for body in pages] == [2, 2, 2]
    names = [c["business_name"] for body in pages for c in body["clients"]]
    assert names == [f"Shop {n}" for n in (6, 5, 3, 2, 1, 0)]  # Shop 4 is inactive
    assert [body["next_after"] is None for body in pages] == [False, False, True]
    link = client.get("/api/clients?limit=2&active=true&junk=1",
                      headers=api_headers).headers["Link"]
    assert "active=true" in link and "junk" not in link


def test_a_clients_cursor_that_was_altered_or_is_from_another_list_is_a_422(
        client, api_headers, prov):
    _shops(3)
    cursor = client.get("/api/clients?limit=1", headers=api_headers).headers["X-Next-Cursor"]
    calls_cursor = encode_cursor("calls", 2)
    payload, _, signature = cursor.partition(".")
    forged = encode_cursor("clients", 1).partition(".")[0] + "." + signature
    for query in ({"cursor": _tampered(cursor)}, {"cursor": calls_cursor}, {"cursor": forged},
                  {"cursor": "not-a-cursor"}, {"cursor": cursor, "after": 3}):
        response = client.get("/api/clients", query_string=query, headers=api_headers)
        assert response.status_code == 422, query
        assert set(response.get_json()["errors"]) & {"cursor", "after"}


def test_patch_client_changes_settings_and_rejects_bad_hours(client, api_headers, prov):
    shop = Client(business_name="Shop", email="s@example.com")
    db.session.add(shop)
    db.session.commit()
    response = client.patch(f"/api/clients/{shop.id}", headers=api_headers, json={
        "custom_greeting": "Hola", "rachel_enabled": False, "timezone": "America/Chicago",
        "business_hours": {"mon": [["08:00", "12:00"]]}, "forwarding_number": "+14155550100"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["custom_greeting"] == "Hola" and body["timezone"] == "America/Chicago"
    bad = client.patch(f"/api/clients/{shop.id}", headers=api_headers,
                       json={"business_hours": {"mon": [["18:00", "09:00"]]}, "id": 5})
    assert bad.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.kind == "client.updated")) == 1


def test_search_numbers_without_a_body_uses_the_defaults(client, api_headers, prov):
    response = client.post("/api/clients/search-numbers", headers=api_headers)
    assert response.status_code == 200
    assert response.get_json()["count"] == 10


def test_ids_no_row_can_have_are_problems_not_server_errors(client, api_headers, prov):
    too_big = 2**31  # one past what an Integer id holds
    for url in (f"/api/clients/{too_big}", f"/api/clients/{too_big}/calls",
                f"/api/clients/{10**30}/usage", f"/api/clients/{too_big}/number"):
        response = client.get(url, headers=api_headers)
        assert response.status_code == 404, url
        assert response.mimetype == "application/problem+json"
    response = client.get(f"/api/clients?after={too_big}", headers=api_headers)
    assert response.status_code == 422 and "after" in response.get_json()["errors"]
    client_id, _ = provisioned_client()
    too_far = encode_cursor("calls", too_big)  # signed by the API, yet no id can be this big
    response = client.get(f"/api/clients/{client_id}/calls?cursor={too_far}",
                          headers=api_headers)
    assert response.status_code == 422 and "cursor" in response.get_json()["errors"]
