"""Whole calls placed by the sandbox's call simulator against the app over real HTTP."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests
import sqlalchemy as sa

from ringly.booking.models import Appointment
from ringly.booking.slots import zone
from ringly.db import db, utcnow
from ringly.messaging.models import Message
from ringly.telephony import WebhookConfig, get_gateway
from ringly.voice.models import Call
from tests.voice.conftest import EVERY_DAY, make_client

NUMBER = "+15005550006"
CALLER = "+13125550142"


@pytest.fixture
def number(app, sandbox, live_server):
    """A sandbox number wired to this app's webhooks, as provisioning would leave it."""
    base = live_server.url
    with app.app_context():
        get_gateway().purchase(phone_number=NUMBER, friendly_name="ringly-test",
                               webhooks=WebhookConfig(
                                   voice_url=f"{base}/voice/rachel/",
                                   voice_fallback_url=f"{base}/voice/fallback",
                                   sms_url=f"{base}/webhook/twilio/sms",
                                   status_callback=f"{base}/webhook/twilio/status"))
    return NUMBER


def place_call(sandbox, inputs, to=NUMBER, caller=CALLER) -> dict:
    response = requests.post(f"{sandbox.url}/sandbox/calls", timeout=60,
                             json={"to": to, "from": caller, "inputs": inputs})
    assert response.status_code == 200, response.text
    call = response.json()
    assert call["errors"] == [], call["errors"]
    for entry in call["transcript"]:
        if "status" in entry:
            assert entry["status"] == 200, entry
    return call


def heard(call: dict) -> str:
    return " | ".join(call["heard"])


def _tomorrow_at(hour: int) -> datetime:
    tz = zone("America/Chicago")
    day = (utcnow().astimezone(tz) + timedelta(days=1)).date()
    return datetime(day.year, day.month, day.day, hour, tzinfo=tz)


def _rows(app, model):
    with app.app_context():
        rows = list(db.session.scalars(sa.select(model).order_by(model.id)))
        db.session.expunge_all()
        db.session.remove()
    return rows


def test_english_call_books_after_confirmation_and_logs_the_call(app, sandbox, number):
    make_client(app, ringlypro_number=number)
    call = place_call(sandbox, [{"digits": "1"}, {"digits": "1"}, {"speech": "Maria Lopez"},
                                {"digits": "1"}, {"speech": "tomorrow at 10 am"},
                                {"digits": "1"}])
    text = heard(call)
    assert "For English, press 1" in text and "Para español, oprima 2" in text
    assert "I have " in text and "at 10 AM. To confirm" in text
    assert "You're booked for" in text and call["status"] == "completed"
    [appointment] = _rows(app, Appointment)
    assert appointment.starts_at == _tomorrow_at(10) and appointment.customer_phone == CALLER
    [logged] = _rows(app, Call)
    assert logged.status == "completed" and logged.duration_seconds is not None


def test_spanish_call_books_with_lina(app, sandbox, number):
    make_client(app, ringlypro_number=number)
    call = place_call(sandbox, [{"speech": "español"}, {"speech": "cita"},
                                {"speech": "José Pérez"}, {"digits": "1"},
                                {"speech": "mañana a las tres de la tarde"}, {"speech": "sí"}])
    text = heard(call)
    assert "Le atiende Lina" in text and "Tengo mañana, " in text and "Su cita quedó para" in text
    [appointment] = _rows(app, Appointment)
    assert appointment.starts_at == _tomorrow_at(15) and appointment.language == "es"


@pytest.mark.parametrize("locale", ["en", "es"])
def test_taken_slot_alternative_is_booked_on_the_same_call(app, sandbox, number, locale):
    client_id = make_client(app, ringlypro_number=number)
    taken = _tomorrow_at(10)
    with app.app_context():
        db.session.add(Appointment(client_id=client_id, customer_name="Earlier",
                                   customer_phone="+13125550777", starts_at=taken,
                                   ends_at=taken + timedelta(minutes=30),
                                   confirmation_code="TAKEN1"))
        db.session.commit()
        db.session.remove()
    when = "tomorrow at 10 am" if locale == "en" else "mañana a las diez"
    call = place_call(sandbox, [{"digits": "1" if locale == "en" else "2"}, {"digits": "1"},
                                {"speech": "Ann Lee"}, {"digits": "1"}, {"speech": when},
                                {"digits": "1"}, {"digits": "1"}])
    text = heard(call)
    offered = "nearest free times" if locale == "en" else "horas libres más cercanas"
    booked = "You're booked for" if locale == "en" else "Su cita quedó para"
    assert offered in text and booked in text
    mine = [a for a in _rows(app, Appointment) if a.customer_name == "Ann Lee"]
    # Offered soonest first: 9:00, 9:30, 10:30 (the two closest, then the earlier of 9 and 11).
    assert len(mine) == 1 and mine[0].starts_at == taken - timedelta(minutes=60)


@pytest.mark.parametrize(("locale", "sorry", "again"), [
    ("en", "couldn't understand a day and time", "What day and time"),
    ("es", "no entendí el día y la hora", "Qué día"),
])
def test_unintelligible_time_is_asked_again(app, sandbox, number, locale, sorry, again):
    make_client(app, ringlypro_number=number)
    call = place_call(sandbox, [{"digits": "1" if locale == "en" else "2"}, {"digits": "1"},
                                {"speech": "Ann Lee"}, {"digits": "1"},
                                {"speech": "purple elephants"}, {"speech": "purple elephants"},
                                {"speech": "purple elephants"}])
    text = heard(call)
    assert text.count(sorry) == 3 and text.count(again) >= 3
    assert _rows(app, Appointment) == []


@pytest.mark.parametrize(("locale", "sorry", "goodbye"), [
    ("en", "Sorry, I didn't hear anything.", "Please call us again any time. Goodbye."),
    ("es", "Perdone, no le escuché.", "Llámenos cuando quiera. Adiós."),
])
def test_silence_reprompts_then_says_goodbye(app, sandbox, number, locale, sorry, goodbye):
    make_client(app, ringlypro_number=number)
    call = place_call(sandbox, [{"digits": "1" if locale == "en" else "2"}, {"silence": True},
                                {"silence": True}, {"silence": True}])
    text = heard(call)
    assert text.count(sorry) == 3 and call["heard"][-1].endswith(goodbye)
    assert call["status"] == "completed"


@pytest.mark.parametrize(("locale", "thanks"), [
    ("en", "Thank you, we got your message."), ("es", "Gracias, recibimos su mensaje.")])
def test_voicemail_is_recorded_with_its_transcription(app, sandbox, number, locale, thanks):
    make_client(app, ringlypro_number=number)
    call = place_call(sandbox, [{"digits": "1" if locale == "en" else "2"}, {"digits": "2"},
                                {"record": "please call me back"}])
    assert thanks in heard(call)
    [voicemail] = _rows(app, Message)
    assert voicemail.channel == "voicemail" and voicemail.recording_url
    assert voicemail.transcription == "please call me back" and voicemail.language == locale


def test_unknown_number_hears_bilingual_goodbye(app, sandbox, number):
    make_client(app, ringlypro_number="+13125550100")  # the called number is nobody's
    call = place_call(sandbox, [])
    assert "not in service" in heard(call) and "no está en servicio" in heard(call)
    assert _rows(app, Call)[0].client_id is None  # only the status callback's log row


def test_disabled_client_hears_bilingual_goodbye(app, sandbox, number):
    make_client(app, ringlypro_number=number, rachel_enabled=False)
    call = place_call(sandbox, [{"digits": "1"}])
    assert "not in service" in heard(call) and "no está en servicio" in heard(call)
    assert "press 1" not in heard(call)


def test_business_hours_then_booking_in_one_call(app, sandbox, number):
    make_client(app, ringlypro_number=number, business_hours=EVERY_DAY)
    call = place_call(sandbox, [{"digits": "1"}, {"digits": "3"}, {"digits": "2"},
                                {"record": "hello"}])
    assert "Our hours are: Monday to Sunday, 9 AM to 5 PM" in heard(call)


def test_failing_voice_url_falls_back_to_the_static_apology_that_takes_a_message(
        app, sandbox, live_server):
    base = live_server.url
    with app.app_context():
        get_gateway().purchase(phone_number=NUMBER, friendly_name="ringly-test",
                               webhooks=WebhookConfig(
                                   voice_url=f"{base}/voice/not-there",
                                   voice_fallback_url=f"{base}/voice/fallback",
                                   status_callback=f"{base}/webhook/twilio/status"))
    make_client(app, ringlypro_number=NUMBER)
    response = requests.post(f"{sandbox.url}/sandbox/calls", timeout=60, json={
        "to": NUMBER, "from": CALLER, "inputs": [{"record": "call me back please"}]})
    call = response.json()
    text = heard(call)
    assert "trouble answering" in text and "problemas para atenderle" in text
    assert "we got your message" in text and call["status"] == "completed"
    [voicemail] = _rows(app, Message)
    assert voicemail.channel == "voicemail" and voicemail.recording_url
    assert voicemail.from_number == CALLER
