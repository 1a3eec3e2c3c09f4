"""Inbound texts: CANCEL/CONFIRM act on the sender's next appointment; the rest gets help."""
from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ringly.booking.models import Appointment
from ringly.db import db, utcnow
from ringly.messaging.models import Message
from ringly.messaging.services import is_spanish
from tests.voice.conftest import CALLER, CLIENT_NUMBER, make_client, parse_twiml, signed_post

pytestmark = pytest.mark.smoke


def _text(app, client, body, sid=None, sender=CALLER) -> str:
    response = signed_post(client, app, "/webhook/twilio/sms", {
        "MessageSid": sid or "SM" + uuid.uuid4().hex, "From": sender, "To": CLIENT_NUMBER,
        "Body": body, "NumMedia": "0"})
    assert response.status_code == 200 and response.mimetype == "text/xml"
    root = parse_twiml(response.data)
    [message] = root.findall("Message")
    return "".join(message.itertext()) if isinstance(message, ET.Element) else ""


def _book(app, client_id, hours_from_now: int, phone=CALLER) -> int:
    start = (utcnow() + timedelta(hours=hours_from_now)).replace(minute=0, second=0,
                                                                 microsecond=0)
    with app.app_context():
        appointment = Appointment(client_id=client_id, customer_name="Ann", customer_phone=phone,
                                  starts_at=start, ends_at=start + timedelta(minutes=30),
                                  confirmation_code=uuid.uuid4().hex[:6].upper())
        db.session.add(appointment)
        db.session.commit()
        appointment_id = appointment.id
        db.session.remove()
    return appointment_id


def _status(app, appointment_id) -> str:
    with app.app_context():
        status = db.session.get(Appointment, appointment_id).status
        db.session.remove()
    return status


@pytest.mark.parametrize(("word", "reply"), [("CANCEL", "is cancelled"),
                                             ("cancelar", "quedó cancelada")])
def test_cancel_cancels_only_the_next_appointment(app, client, word, reply):
    client_id = make_client(app)
    later = _book(app, client_id, 72)
    sooner = _book(app, client_id, 48)
    assert reply in _text(app, client, word)
    assert _status(app, sooner) == "cancelled" and _status(app, later) == "booked"


@pytest.mark.parametrize(("word", "reply"), [("Confirm", "is confirmed"),
                                             ("CONFIRMAR", "quedó confirmada")])
def test_confirm_confirms_the_next_appointment(app, client, word, reply):
    appointment_id = _book(app, make_client(app), 30)
    assert reply in _text(app, client, word)
    assert _status(app, appointment_id) == "confirmed"


def test_other_text_gets_help_in_its_language_and_everything_is_stored(app, client):
    make_client(app)
    assert "Reply CONFIRM" in _text(app, client, "what time do you open?")
    assert "Responda CONFIRMAR" in _text(app, client, "hola, ¿a qué hora abren?")
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Message).order_by(Message.id)))
        assert [(m.direction, m.language) for m in rows] == [
            ("inbound", "en"), ("outbound", "en"), ("inbound", "es"), ("outbound", "es")]
        assert rows[0].body == "what time do you open?" and rows[0].sid.startswith("SM")


def test_cancel_without_an_appointment_says_so(app, client):
    make_client(app)
    assert "couldn't find an upcoming appointment" in _text(app, client, "cancel")


def test_replayed_text_replies_the_same_and_acts_once(app, client):
    client_id = make_client(app)
    first = _book(app, client_id, 24)
    second = _book(app, client_id, 48)
    sid = "SM" + "e" * 32
    assert _text(app, client, "CANCEL", sid=sid) == _text(app, client, "CANCEL", sid=sid)
    assert _status(app, first) == "cancelled" and _status(app, second) == "booked"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 2


@pytest.mark.parametrize(("text", "spanish"), [
    ("CANCELAR", True), ("Hola", True), ("¿Puedo cambiar mi cita?", True), ("mañana", True),
    ("CANCEL", False), ("hello, can I move my appointment?", False), ("ok", False)])
def test_spanish_is_detected_simply(text, spanish):
    assert is_spanish(text) is spanish


def test_a_text_with_characters_xml_cannot_carry_is_stored_and_answered(app, client):
    make_client(app)
    # NUL cannot be stored in PostgreSQL, and none of these may appear in the TwiML reply.
    assert "Reply CONFIRM" in _text(app, client, "when\x00 do you\x0b open?\x7f")
    with app.app_context():
        inbound = db.session.scalar(sa.select(Message).where(Message.direction == "inbound"))
        assert inbound.body == "when  do you  open?"


def test_a_text_from_a_long_sender_address_is_stored_and_not_auto_answered(app, client):
    make_client(app)
    sender = "whatsapp:+14155551234-with-a-long-channel-address-0123456789"
    response = signed_post(client, app, "/webhook/twilio/sms", {
        "MessageSid": "SM" + uuid.uuid4().hex, "From": sender, "To": CLIENT_NUMBER,
        "Body": "hello", "NumMedia": "0"})
    assert response.status_code == 200
    # Not a phone number the policy can check: no automatic reply goes to it.
    assert parse_twiml(response.data).findall("Message") == []
    with app.app_context():
        inbound = db.session.scalar(sa.select(Message).where(Message.direction == "inbound"))
        assert inbound.from_number == sender
        reply = db.session.scalar(sa.select(Message).where(Message.direction == "outbound"))
        assert reply.status == "refused" and reply.to_number == sender
