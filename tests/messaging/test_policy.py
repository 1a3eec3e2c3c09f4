"""The messaging policy: where Ringly may text, how many texts per caller, destination and
client a day, and auto-replies that cannot loop or answer short codes."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ringly.admin.models import AuditEvent
from ringly.booking import services as booking
from ringly.clients.models import Client
from ringly.config import ConfigurationError, load_config
from ringly.db import db, utcnow
from ringly.destinations import check_destination
from ringly.messaging import outbound
from ringly.messaging.models import Message
from ringly.provisioning.models import PhoneNumber
from tests.booking.test_services import _tomorrow_at
from tests.voice.conftest import CALLER, CLIENT_NUMBER, make_client, parse_twiml, signed_post

OTHER_CALLER = "+13125550177"


@pytest.mark.parametrize(("number", "countries", "code"), [
    ("+13125550142", {"US"}, None),                          # US fixed line or mobile
    ("+14165550123", {"US"}, "country_not_allowed"),         # Canada shares +1, not the country
    ("+14165550123", {"US", "CA"}, None),
    ("+442079460000", {"US"}, "country_not_allowed"),        # London, fixed line
    ("+442079460000", {"US", "GB"}, None),
    ("+19002001234", {"US"}, "number_type_not_allowed"),     # premium rate
    ("+18005551234", {"US"}, "number_type_not_allowed"),     # toll free
    ("+15005550006", {"US"}, "number_type_not_allowed"),     # personal (500) range
    ("+448712345678", {"GB"}, "number_type_not_allowed"),    # shared cost / premium
    ("+445612345678", {"GB"}, "number_type_not_allowed"),    # VoIP-only range
    ("+443001234567", {"GB"}, "number_type_not_allowed"),    # UAN
    ("+12345", {"US"}, "invalid_number"),
    ("12345", {"US"}, "not_a_phone_number"),                 # a short code
    ("ACME", {"US"}, "not_a_phone_number"),                  # an alphanumeric sender
    ("sip:+13125550142@trunk.example.com", {"US"}, "not_a_phone_number"),
    ("", {"US"}, "not_a_phone_number"),
])
def test_destination_rules(number, countries, code):
    refusal = check_destination(number, countries)
    assert (refusal.code if refusal else None) == code


def _earlier_texts(app, count: int, *, to: str = "+13125550142", caller: str | None = CALLER,
                   age: timedelta = timedelta(hours=1), status: str = "sent",
                   purpose: str = "confirmation") -> None:
    """Texts Ringly already sent for this client, `age` ago."""
    with app.app_context():
        client = db.session.scalar(sa.select(Client))
        for _ in range(count):
            db.session.add(Message(
                client_id=client.id, channel="sms", direction="outbound",
                from_number=client.ringlypro_number, to_number=to, caller_number=caller,
                body="earlier", purpose=purpose, status=status, created_at=utcnow() - age))
        db.session.commit()
        db.session.remove()


def _confirm(app, phone: str, caller: str | None = CALLER) -> Message:
    """Book tomorrow's next free slot for `phone` and queue its confirmation text."""
    with app.app_context():
        client = db.session.scalar(sa.select(Client))
        taken = db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
            Message.appointment_id.is_not(None)))
        appointment = booking.book_slot(
            client, call_sid="CA" + uuid.uuid4().hex, name="Ann Lee", phone=phone,
            starts_at=_tomorrow_at(9) + timedelta(minutes=30 * taken), language="en",
            now=utcnow())
        text = outbound.queue_confirmation(appointment, client, caller=caller)
        db.session.commit()
        db.session.refresh(text)
        db.session.expunge(text)
        db.session.remove()
    return text


def _audit(app, kind: str) -> list[AuditEvent]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == kind)))
        db.session.expunge_all()
        db.session.remove()
    return rows


def test_one_caller_cannot_have_more_texts_a_day_than_the_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "TEXTS_PER_CALLER_PER_DAY", 2)
    make_client(app)
    # One caller typing a different number on each call: the pumping pattern.
    assert _confirm(app, "+13125550101").status == "queued"
    assert _confirm(app, "+13125550102").status == "queued"
    refused = _confirm(app, "+13125550103")
    assert refused.status == "refused" and "this caller already had 2 texts" in \
        refused.refused_reason
    assert _confirm(app, "+13125550104", caller=OTHER_CALLER).status == "queued"
    [event] = _audit(app, "message.refused")
    assert event.data["reason"] == "caller_daily_limit"


def test_one_destination_cannot_get_more_texts_a_day_than_the_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "TEXTS_PER_DESTINATION_PER_DAY", 2)
    make_client(app)
    _earlier_texts(app, 2, to="+13125550142", caller="+13125550111")
    refused = _confirm(app, "+13125550142", caller=OTHER_CALLER)
    assert refused.status == "refused" and "this number was already texted 2 times" in \
        refused.refused_reason
    assert _confirm(app, "+13125550143", caller=OTHER_CALLER).status == "queued"


def test_one_client_cannot_send_more_texts_a_day_than_the_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "TEXTS_PER_CLIENT_PER_DAY", 3)
    make_client(app)
    for n in range(3):
        _earlier_texts(app, 1, to=f"+1312555020{n}", caller=f"+1312555030{n}")
    refused = _confirm(app, "+13125550142", caller=OTHER_CALLER)
    assert refused.status == "refused" and "this client already sent 3 texts" in \
        refused.refused_reason


def test_daily_limits_count_a_rolling_day_and_not_refused_texts(app, monkeypatch):
    monkeypatch.setitem(app.config, "TEXTS_PER_CALLER_PER_DAY", 1)
    make_client(app)
    _earlier_texts(app, 3, age=timedelta(hours=25))
    _earlier_texts(app, 3, status="refused")
    assert _confirm(app, "+13125550142").status == "queued"
    assert _confirm(app, "+13125550143").status == "refused"


def test_a_refused_text_is_in_the_messages_list_with_its_reason(app, client, api_headers):
    client_id = make_client(app)
    _confirm(app, "+442079460000")
    response = client.get(f"/api/clients/{client_id}/messages", headers=api_headers)
    assert response.status_code == 200
    [listed] = response.get_json()
    assert listed["status"] == "refused" and listed["caller_number"] == CALLER
    assert "numbers in GB are not allowed (allowed countries: US)" in listed["refused_reason"]


def test_a_text_recorded_before_the_policy_is_checked_again_before_sending(app, sandbox):
    make_client(app, ringlypro_number="+15005550006")
    text = _confirm(app, "+13125550142")
    with app.app_context():
        # As a row queued before the policy existed would be.
        db.session.execute(sa.update(Message).where(Message.id == text.id)
                           .values(to_number="+19002001234"))
        db.session.commit()
        outbound.send_message(text.id)
        message = db.session.get(Message, text.id)
        assert message.status == "refused" and "premium-rate" in message.refused_reason
        db.session.remove()
    assert sandbox.messages() == []


# -- automatic replies to inbound texts -------------------------------------------------------
def _text_in(app, http, sender: str, to: str = CLIENT_NUMBER, body: str = "hello") -> list[str]:
    """The replies in the TwiML answer to one inbound text."""
    response = signed_post(http, app, "/webhook/twilio/sms", {
        "MessageSid": "SM" + uuid.uuid4().hex, "From": sender, "To": to, "Body": body,
        "NumMedia": "0"})
    assert response.status_code == 200
    return ["".join(m.itertext()) for m in parse_twiml(response.data).findall("Message")]


def _replies(app) -> list[Message]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Message).where(
            Message.direction == "outbound").order_by(Message.id)))
        db.session.expunge_all()
        db.session.remove()
    return rows


def test_auto_replies_to_one_sender_are_capped_per_hour(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "AUTO_REPLIES_PER_SENDER_PER_HOUR", 2)
    make_client(app)
    assert len(_text_in(app, client, CALLER)) == 1
    assert len(_text_in(app, client, CALLER)) == 1
    assert _text_in(app, client, CALLER) == []
    assert len(_text_in(app, client, OTHER_CALLER)) == 1
    statuses = [(m.to_number, m.status) for m in _replies(app)]
    assert statuses == [(CALLER, "sent"), (CALLER, "sent"), (CALLER, "refused"),
                        (OTHER_CALLER, "sent")]
    assert "automatic replies in the last hour" in _replies(app)[2].refused_reason


def test_an_hour_later_the_sender_is_answered_again(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "AUTO_REPLIES_PER_SENDER_PER_HOUR", 1)
    make_client(app)
    _earlier_texts(app, 1, to=CALLER, purpose="reply", age=timedelta(minutes=61))
    assert len(_text_in(app, client, CALLER)) == 1


@pytest.mark.parametrize("sender", ["12345", "+12345", "ACME"])
def test_short_codes_and_named_senders_get_no_auto_reply(app, client, sender):
    make_client(app)
    assert _text_in(app, client, sender, body="Your code is 1234") == []
    [reply] = _replies(app)
    assert reply.status == "refused" and reply.to_number == sender


def test_two_ringly_numbers_texting_each_other_do_not_loop(app, client):
    make_client(app)
    other = "+13125550111"
    make_client(app, business_name="Other Shop", ringlypro_number=other)
    # Other Shop's number texts Sunrise (e.g. a reply went astray); Sunrise must not answer,
    # or the two auto-responders would text each other forever.
    assert _text_in(app, client, other, to=CLIENT_NUMBER) == []
    assert _text_in(app, client, CLIENT_NUMBER, to=other) == []
    assert [m.status for m in _replies(app)] == ["refused", "refused"]
    assert {e.data["reason"] for e in _audit(app, "message.refused")} == {"ringly_number"}


def test_a_number_ringly_bought_but_no_client_holds_gets_no_auto_reply(app, client):
    make_client(app)
    with app.app_context():
        db.session.add(PhoneNumber(sid="PN" + "1" * 32, phone_number="+13125550166",
                                   status="quarantined"))
        db.session.commit()
        db.session.remove()
    assert _text_in(app, client, "+13125550166") == []


def test_a_replayed_text_whose_reply_was_refused_stays_unanswered(app, client):
    make_client(app)
    params = {"MessageSid": "SM" + "a" * 32, "From": "12345", "To": CLIENT_NUMBER,
              "Body": "hi", "NumMedia": "0"}
    for _ in range(2):
        response = signed_post(client, app, "/webhook/twilio/sms", params)
        assert parse_twiml(response.data).findall("Message") == []
    assert len(_replies(app)) == 1


def test_allowed_countries_setting_is_read_strictly():
    assert load_config("/tmp", {"ALLOWED_DESTINATION_COUNTRIES": " us, CA ,"})[
        "ALLOWED_DESTINATION_COUNTRIES"] == ("US", "CA")
    assert load_config("/tmp", {})["ALLOWED_DESTINATION_COUNTRIES"] == ()
    with pytest.raises(ConfigurationError, match="USA"):
        load_config("/tmp", {"ALLOWED_DESTINATION_COUNTRIES": "USA"})
