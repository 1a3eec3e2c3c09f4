"""The per-client API: appointments, calls, messages and this month's usage."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

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
