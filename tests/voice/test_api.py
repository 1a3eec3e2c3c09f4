"""The per-client API: appointments, calls, messages and this month's usage."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from ringly.booking.models import Appointment
from ringly.db import db, utcnow
from ringly.messaging.models import Message
from ringly.provisioning.models import PhoneNumber
from ringly.voice.models import Call
from tests.voice.conftest import make_client


def _seed(app) -> int:
    client_id = make_client(app)
    now = utcnow()
    with app.app_context():
        db.session.add_all([
            Call(call_sid="CA" + "1" * 32, client_id=client_id, status="completed",
                 duration_seconds=61, price=Decimal("0.0170"), language="en", state={}),
            Call(call_sid="CA" + "2" * 32, client_id=client_id, status="completed",
                 duration_seconds=30, language="es", state={}),
            Message(client_id=client_id, channel="sms", direction="inbound", body="CANCEL",
                    sid="SM" + "1" * 32),
            Message(client_id=client_id, channel="voicemail", direction="inbound",
                    recording_url="https://api.twilio.com/rec"),
            Appointment(client_id=client_id, customer_name="Ann", customer_phone="+13125550101",
                        starts_at=now + timedelta(days=1),
                        ends_at=now + timedelta(days=1, minutes=30), confirmation_code="ABC234"),
            PhoneNumber(sid="PN" + "1" * 32, phone_number="+13125550100", client_id=client_id,
                        status="active", monthly_price=Decimal("1.15"), price_unit="USD"),
            PhoneNumber(sid="PN" + "2" * 32, phone_number="+13125550101", client_id=client_id,
                        status="released", monthly_price=Decimal("1.15"), price_unit="USD"),
            PhoneNumber(sid="PN" + "3" * 32, phone_number="+18005550102", client_id=client_id,
                        number_type="toll_free", status="quarantined",
                        monthly_price=Decimal("2.15"), price_unit="USD"),
        ])
        db.session.commit()
        db.session.remove()
    return client_id


def test_lists_show_what_the_receptionist_recorded(app, client, api_headers):
    client_id = _seed(app)
    calls = client.get(f"/api/clients/{client_id}/calls", headers=api_headers).get_json()
    assert [c["duration_seconds"] for c in calls] == [30, 61] and calls[1]["price"] == "0.0170"
    messages = client.get(f"/api/clients/{client_id}/messages", headers=api_headers).get_json()
    assert {m["channel"] for m in messages} == {"sms", "voicemail"}
    appointments = client.get(f"/api/clients/{client_id}/appointments",
                              headers=api_headers).get_json()
    assert [a["confirmation_code"] for a in appointments] == ["ABC234"]


def test_usage_counts_this_month(app, client, api_headers):
    client_id = _seed(app)
    usage = client.get(f"/api/clients/{client_id}/usage", headers=api_headers).get_json()
    assert usage["calls"] == 2 and usage["minutes"] == 3  # 61 s bills 2 minutes, 30 s one
    # Released numbers cost nothing more; a quarantined one is still paid for.
    assert usage["messages"] == 1 and usage["number_cost"] == "3.3000"
    assert usage["call_cost"] == "0.0170"


def test_unknown_client_is_a_problem_404_and_a_key_is_required(app, client, api_headers):
    for route in ("appointments", "calls", "messages", "usage"):
        response = client.get(f"/api/clients/999/{route}", headers=api_headers)
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
        assert client.get(f"/api/clients/999/{route}").status_code == 401


def _walk(client, api_headers, url):
    """Follow the Link headers from `url` to the last page; returns every page's rows."""
    pages = []
    while url:
        response = client.get(url, headers=api_headers)
        assert response.status_code == 200, response.get_json()
        pages.append(response.get_json())
        link = response.headers.get("Link")
        assert (link is None) == (response.headers.get("X-Next-Cursor") is None)
        url = link[1:link.index(">")] if link else None
    return pages


def test_calls_and_messages_page_newest_first_without_gaps_or_repeats(app, client, api_headers):
    client_id = make_client(app)
    with app.app_context():
        db.session.add_all([Call(call_sid=f"CA{n:032d}", client_id=client_id, state={})
                            for n in range(7)])
        db.session.add_all([Message(client_id=client_id, channel="sms", direction="inbound",
                                    body=f"text {n}") for n in range(5)])
        db.session.commit()
        db.session.remove()
    pages = _walk(client, api_headers, f"/api/clients/{client_id}/calls?limit=3&_scheme=x&junk=1")
    assert [len(rows) for rows in pages] == [3, 3, 1]
    link = client.get(f"/api/clients/{client_id}/calls?limit=3&_scheme=x&junk=1",
                      headers=api_headers).headers["Link"]
    assert link.startswith(f"</api/clients/{client_id}/calls?") and "junk" not in link
    sids = [call["call_sid"] for rows in pages for call in rows]
    assert sids == [f"CA{n:032d}" for n in reversed(range(7))]

    pages = _walk(client, api_headers, f"/api/clients/{client_id}/messages?limit=2")
    assert [len(rows) for rows in pages] == [2, 2, 1]
    assert [m["body"] for rows in pages for m in rows] == [f"text {n}" for n in (4, 3, 2, 1, 0)]
    # Without a limit a page holds 50.
    assert len(client.get(f"/api/clients/{client_id}/calls", headers=api_headers).get_json()) == 7


def test_appointments_page_soonest_first_within_a_range(app, client, api_headers):
    client_id = make_client(app)
    start = utcnow().replace(microsecond=0) + timedelta(days=1)
    with app.app_context():
        for n in range(6):
            # Two at each time (one of them cancelled, which frees the slot): the id breaks the
            # tie, so a page boundary inside a tie neither repeats nor skips a row.
            begins = start + timedelta(hours=n // 2)
            db.session.add(Appointment(
                client_id=client_id, customer_name=f"Caller {n}", customer_phone="+13125550101",
                starts_at=begins, ends_at=begins + timedelta(minutes=30),
                confirmation_code=f"CODE{n:02d}",
                status="cancelled" if n % 2 == 0 else "booked",
                cancelled_at=utcnow() if n % 2 == 0 else None))
            db.session.flush()  # ids in the order added
        db.session.commit()
        db.session.remove()
    pages = _walk(client, api_headers, f"/api/clients/{client_id}/appointments?limit=3")
    assert [a["customer_name"] for rows in pages for a in rows] == [f"Caller {n}" for n in range(6)]
    assert [len(rows) for rows in pages] == [3, 3]

    window = {"from": (start + timedelta(hours=1)).isoformat(),
              "to": (start + timedelta(hours=2)).isoformat(), "limit": 1}
    url = f"/api/clients/{client_id}/appointments?" + urlencode(window)
    pages = _walk(client, api_headers, url)
    assert [a["customer_name"] for rows in pages for a in rows] == ["Caller 2", "Caller 3"]


def test_a_cursor_is_good_only_for_the_list_that_gave_it_out(app, client, api_headers):
    client_id = make_client(app)
    with app.app_context():
        db.session.add_all([Call(call_sid=f"CA{n:032d}", client_id=client_id, state={})
                            for n in range(3)])
        db.session.commit()
        db.session.remove()
    cursor = client.get(f"/api/clients/{client_id}/calls?limit=1",
                        headers=api_headers).headers["X-Next-Cursor"]
    assert client.get(f"/api/clients/{client_id}/calls?cursor={cursor}",
                      headers=api_headers).status_code == 200
    for route in ("messages", "appointments"):
        response = client.get(f"/api/clients/{client_id}/{route}?cursor={cursor}",
                              headers=api_headers)
        assert response.status_code == 422, route
        assert "cursor" in response.get_json()["errors"]


def test_bad_paging_arguments_are_problems(app, client, api_headers):
    client_id = make_client(app)
    base = f"/api/clients/{client_id}"
    for url, field in ((f"{base}/calls?limit=0", "limit"), (f"{base}/calls?limit=201", "limit"),
                       (f"{base}/messages?cursor=not-ours", "cursor"),
                       (f"{base}/appointments?cursor=WzFd", "cursor"),
                       (f"{base}/appointments?from=2026-12-01T10:00:00", "from"),
                       (f"{base}/appointments?from=2026-12-02T10:00:00Z&to=2026-12-01T10:00:00Z",
                        "to")):
        response = client.get(url, headers=api_headers)
        assert response.status_code == 422, url
        assert response.mimetype == "application/problem+json"
        problem = response.get_json()
        assert field in str(problem.get("errors")), (url, problem)


def test_appointments_carry_their_start_in_utc_and_in_the_clients_zone(app, client, api_headers):
    client_id = make_client(app, timezone="America/Chicago")
    with app.app_context():
        for code, starts_at in (("WINTER", datetime(2026, 12, 3, 16, tzinfo=UTC)),
                                ("SUMMER", datetime(2027, 7, 1, 15, tzinfo=UTC))):
            db.session.add(Appointment(
                client_id=client_id, customer_name="Ann", customer_phone="+13125550101",
                starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30),
                confirmation_code=code))
        db.session.commit()
        db.session.remove()
    winter, summer = client.get(f"/api/clients/{client_id}/appointments",
                                headers=api_headers).get_json()
    assert winter["starts_at"] == "2026-12-03T16:00:00+00:00"
    assert winter["starts_at_local"] == "2026-12-03T10:00:00-06:00"
    # Daylight saving time: the same 10 am is five hours behind UTC in July.
    assert summer["starts_at_local"] == "2027-07-01T10:00:00-05:00"
    assert winter["timezone"] == summer["timezone"] == "America/Chicago"


def test_verification_requests_are_listed_only_when_asked_for(app, client, api_headers):
    client_id = make_client(app)
    with app.app_context():
        db.session.add_all(
            [Call(call_sid=f"CA{n:032d}", client_id=client_id, state={}, status="completed")
             for n in range(3)]
            + [Call(call_sid="CA" + "9" * 32, client_id=client_id, state={}, status="completed",
                    purpose="verification", duration_seconds=0)])
        db.session.commit()
        db.session.remove()
    base = f"/api/clients/{client_id}/calls"
    assert len(client.get(base, headers=api_headers).get_json()) == 3
    pages = _walk(client, api_headers, f"{base}?include_verification=true&limit=2")
    assert [c["purpose"] for rows in pages for c in rows] == [
        "verification", "caller", "caller", "caller"]
    usage = client.get(f"/api/clients/{client_id}/usage", headers=api_headers).get_json()
    assert usage["calls"] == 3
    for value in ("yes", "1", "True", ""):
        response = client.get(f"{base}?include_verification={value}", headers=api_headers)
        assert response.status_code == 422, value
        assert "include_verification" in response.get_json()["errors"]
