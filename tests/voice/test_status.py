"""Call status callbacks: stored on the call, in order, and a replay changes nothing."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from ringly.db import db
from ringly.voice.models import Call
from tests.voice.conftest import make_client, parse_twiml, signed_post

SID = "CA" + "d" * 32


def _status(app, client, **params):
    response = signed_post(client, app, "/webhook/twilio/status",
                           {"CallSid": SID, "From": "+13125550199", "To": "+13125550100",
                            "Direction": "inbound", **params})
    assert response.status_code == 200
    parse_twiml(response.data)


def _call(app) -> Call:
    with app.app_context():
        call = db.session.scalar(sa.select(Call).where(Call.call_sid == SID))
        db.session.expunge_all()
        db.session.remove()
    return call


def test_completed_callback_stores_status_duration_and_price(app, client):
    client_id = make_client(app)
    _status(app, client, CallStatus="completed", CallDuration="83", SequenceNumber="2",
            Price="-0.0170", PriceUnit="USD", Timestamp="Thu, 26 Nov 2026 01:02:03 +0000")
    call = _call(app)
    assert (call.status, call.duration_seconds, call.client_id) == ("completed", 83, client_id)
    assert call.price == Decimal("0.0170") and call.price_unit == "USD"
    assert call.ended_at.isoformat() == "2026-11-26T01:02:03+00:00"


def test_replayed_or_late_callbacks_change_nothing(app, client):
    make_client(app)
    _status(app, client, CallStatus="completed", CallDuration="60", SequenceNumber="3")
    _status(app, client, CallStatus="completed", CallDuration="999", SequenceNumber="3")
    _status(app, client, CallStatus="ringing", SequenceNumber="1")
    call = _call(app)
    assert (call.status, call.duration_seconds, call.last_sequence) == ("completed", 60, 3)


def test_final_status_is_never_undone_without_sequence_numbers(app, client):
    make_client(app)
    _status(app, client, CallStatus="completed", CallDuration="12")
    _status(app, client, CallStatus="in-progress")
    assert _call(app).status == "completed"


def test_values_no_column_can_hold_are_dropped_not_a_server_error(app, client):
    make_client(app)
    _status(app, client, CallStatus="completed", CallDuration="99999999999999",
            SequenceNumber="99999999999999", Price="1e30", PriceUnit="USDOLLARS")
    call = _call(app)
    assert call.status == "completed" and call.duration_seconds is None
    assert call.price is None and call.last_sequence is None
    _status(app, client, CallStatus="x" * 40, Price="Infinity")
    assert _call(app).status == "completed"  # an unknown status never replaces a final one
