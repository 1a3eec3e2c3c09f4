"""Callers cannot make Ringly text or dial where it must not: the booking is kept, the text is
refused and said so; a forwarding number that fails the policy is never dialled."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from ringly.admin.models import AuditEvent
from ringly.booking.models import Appointment
from ringly.db import db
from ringly.messaging.models import Message
from tests.voice.conftest import CALLER, make_client

pytestmark = pytest.mark.smoke


def _rows(app, model, *where) -> list:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(model).where(*where).order_by(model.id)))
        db.session.expunge_all()
        db.session.remove()
    return rows


def _book_with_typed_number(phone, typed: str, spanish: bool = False) -> None:
    phone.dial_in()
    phone.press("2" if spanish else "1")
    phone.press("1")
    phone.say("José Pérez" if spanish else "Maria Lopez")
    phone.press(typed)
    phone.say("mañana a las diez de la mañana" if spanish else "tomorrow at 10 am")
    phone.press("1")


def test_an_international_number_typed_at_the_phone_step_books_but_is_not_texted(app, phone):
    make_client(app)
    _book_with_typed_number(phone, "011 44 20 7946 0000".replace(" ", ""))
    [appointment] = _rows(app, Appointment)
    assert appointment.customer_phone == "+442079460000" and appointment.status == "booked"
    said = phone.said_last()
    assert "I can't text that number, but your booking is confirmed" in said
    assert ", ".join(appointment.confirmation_code) in said and phone.ended()
    assert "We'll send you a text" not in said
    [text] = _rows(app, Message)
    assert (text.status, text.to_number, text.caller_number) == ("refused", "+442079460000",
                                                                 CALLER)
    assert "numbers in GB are not allowed" in text.refused_reason
    [event] = _rows(app, AuditEvent, AuditEvent.kind == "message.refused")
    assert event.data["reason"] == "country_not_allowed" and event.subject_id == str(text.id)
    assert "+442079460000" not in event.message  # the audit log shows the last four digits


def test_spanish_caller_hears_the_same_in_spanish(app, phone):
    make_client(app)
    _book_with_typed_number(phone, "19002001234", spanish=True)  # a US premium-rate number
    said = phone.said_last()
    assert "No puedo enviar un mensaje de texto a ese número" in said
    assert "su cita está confirmada" in said and phone.ended()
    [text] = _rows(app, Message)
    assert text.status == "refused" and "premium-rate" in text.refused_reason
    [appointment] = _rows(app, Appointment)
    assert appointment.status == "booked" and appointment.language == "es"


def test_a_local_number_is_still_texted(app, phone):
    make_client(app)
    _book_with_typed_number(phone, "3125550142")
    assert "We'll send you a text message" in phone.said_last()
    [text] = _rows(app, Message)
    assert (text.status, text.refused_reason) == ("queued", None)


def test_a_premium_rate_forwarding_number_stored_before_the_policy_is_never_dialled(app, phone):
    make_client(app, forwarding_number="+19002001234")  # inserted directly, as old rows were
    phone.dial_in()
    phone.press("1")
    phone.press("4")
    assert phone.last.find("Dial") is None
    assert "I can't connect you to a person right now" in phone.said_last()
    assert phone.last.find("Record") is not None  # the caller can still leave a message
    [event] = _rows(app, AuditEvent, AuditEvent.kind == "dial.refused")
    assert event.data["reason"] == "number_type_not_allowed"
    assert event.data["call_sid"] == phone.call_sid


def test_a_forwarding_number_abroad_is_not_dialled_in_spanish_either(app, phone):
    make_client(app, forwarding_number="+442079460000")
    phone.dial_in()
    phone.press("2")
    phone.press("4")
    assert phone.last.find("Dial") is None
    assert "no puedo comunicarle con una persona" in phone.said_last()


def test_allowed_countries_setting_lets_a_forwarding_number_abroad_be_dialled(app, phone,
                                                                               monkeypatch):
    monkeypatch.setitem(app.config, "ALLOWED_DESTINATION_COUNTRIES", ("US", "GB"))
    make_client(app, forwarding_number="+442079460000")
    phone.dial_in()
    phone.press("1")
    phone.press("4")
    dial = phone.last.find("Dial")
    assert dial is not None and dial.text == "+442079460000"
    assert _rows(app, AuditEvent, AuditEvent.kind == "dial.refused") == []
