"""Whole conversations on the Flask test client, in English and Spanish."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from ringly.booking.models import Appointment
from ringly.booking.slots import zone
from ringly.db import db, utcnow
from ringly.messaging.models import Message
from ringly.voice.models import Call
from tests.voice.conftest import CALLER, make_client, spoken

pytestmark = pytest.mark.smoke


def _appointments(app) -> list[Appointment]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Appointment)))
        db.session.expunge_all()
        db.session.remove()
    return rows


def _messages(app) -> list[Message]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Message).order_by(Message.id)))
        db.session.expunge_all()
        db.session.remove()
    return rows


def _tomorrow_local(hour: int, minute: int = 0):
    tz = zone("America/Chicago")
    day = (utcnow().astimezone(tz) + timedelta(days=1)).date()
    return day, tz, hour, minute


def test_english_caller_books_after_hearing_the_time_read_back(app, phone):
    make_client(app)
    phone.dial_in()
    phone.press("1")
    assert "Thank you for calling Sunrise Dental. This is Rachel." in phone.said_last()
    phone.press("1")
    assert "say your first and last name" in phone.said_last()
    phone.say("Maria Lopez")
    assert "Thanks, Maria Lopez" in phone.said_last()
    phone.press("1")
    assert "What day and time" in phone.said_last()
    phone.say("tomorrow at 10 am")
    assert "I have " in phone.said_last() and "at 10 AM" in phone.said_last()
    assert _appointments(app) == []  # nothing is booked before the caller confirms
    phone.press("1")
    assert "You're booked for" in phone.said_last() and phone.ended()
    [appointment] = _appointments(app)
    day, tz, _, _ = _tomorrow_local(10)
    local = appointment.starts_at.astimezone(tz)
    assert (local.date(), local.hour, local.minute) == (day, 10, 0)
    assert appointment.customer_phone == CALLER and appointment.language == "en"
    assert appointment.confirmation_code in phone.said_last().replace(", ", "")
    [text] = _messages(app)
    assert text.dedupe_key == f"confirmation:{appointment.id}" and text.status == "queued"
    assert text.to_number == CALLER and "CONFIRM" in text.body


def test_spanish_caller_books_with_lina_by_speech(app, phone):
    make_client(app)
    phone.dial_in()
    phone.say("español")
    heard = spoken(phone.last)
    assert heard[0] == ("Gracias por llamar a Sunrise Dental. Le atiende Lina.", "es-US")
    assert phone.last.find("Gather").get("language") == "es-US"
    assert "/voice/lina/" in phone.last.find("Gather").get("action")
    phone.say("quiero una cita")
    assert "diga su nombre y apellido" in phone.said_last()
    phone.say("José Pérez")
    phone.say("312 555 0142")
    assert "Qué día" in phone.said_last()
    phone.say("mañana a las tres de la tarde")
    assert "Tengo mañana, " in phone.said_last() and "a las 3 de la tarde" in phone.said_last()
    phone.say("sí")
    assert "Su cita quedó para" in phone.said_last() and phone.ended()
    [appointment] = _appointments(app)
    day, tz, _, _ = _tomorrow_local(15)
    assert appointment.starts_at.astimezone(tz).hour == 15
    assert appointment.customer_phone == "+13125550142" and appointment.language == "es"
    [text] = _messages(app)
    assert "CONFIRMAR" in text.body and text.language == "es"


def test_taken_slot_offers_nearest_and_books_one_on_the_same_call(app, phone):
    make_client(app)
    day, tz, _, _ = _tomorrow_local(10)
    from datetime import datetime

    taken = datetime(day.year, day.month, day.day, 10, 0, tzinfo=tz)
    with app.app_context():
        from ringly.clients.models import Client

        client = db.session.scalar(sa.select(Client))
        db.session.add(Appointment(client_id=client.id, customer_name="Earlier",
                                   customer_phone="+13125550777", starts_at=taken,
                                   ends_at=taken + timedelta(minutes=30), status="booked",
                                   confirmation_code="TAKEN1"))
        db.session.commit()
        db.session.remove()
    phone.dial_in()
    phone.press("1")
    phone.press("1")
    phone.say("Ann Lee")
    phone.press("1")
    phone.say("tomorrow at 10 am")
    said = phone.said_last()
    assert "is not available" in said and "The nearest free times are" in said
    assert "9:30 AM" in said and "10:30 AM" in said and not phone.ended()
    phone.press("2")
    assert "I have" in phone.said_last()
    phone.say("yes")
    assert "You're booked for" in phone.said_last()
    booked = [a for a in _appointments(app) if a.customer_name == "Ann Lee"]
    assert len(booked) == 1 and booked[0].starts_at.astimezone(tz).hour in (9, 10)
    assert booked[0].starts_at != taken


def test_unintelligible_time_is_asked_again_never_guessed(app, phone):
    make_client(app)
    phone.dial_in()
    phone.press("1")
    phone.press("1")
    phone.say("Ann Lee")
    phone.press("1")
    phone.say("whenever the blue bird sings")
    assert "couldn't understand a day and time" in phone.said_last()
    assert "What day and time" in phone.said_last() and not phone.ended()
    phone.say("the day after tomorrow in the morning")
    assert "I have" in phone.said_last() and "at 9 AM" in phone.said_last()
    assert _appointments(app) == []


def test_silence_reprompts_twice_then_says_goodbye(app, phone):
    make_client(app)
    phone.dial_in()
    phone.stay_silent()  # no choice means English
    assert "This is Rachel" in phone.said_last()
    phone.stay_silent()
    assert phone.said_last().startswith("Sorry, I didn't hear anything.")
    phone.stay_silent()
    assert phone.said_last().startswith("Sorry, I didn't hear anything.")
    phone.stay_silent()
    assert "Goodbye" in phone.said_last() and phone.ended()


def test_spanish_silence_and_nonsense_end_politely_in_spanish(app, phone):
    make_client(app)
    phone.dial_in()
    phone.press("2")
    phone.say("banana")
    assert phone.said_last().startswith("Perdone, no le entendí.")
    phone.stay_silent()
    assert phone.said_last().startswith("Perdone, no le escuché.")
    phone.press("9")
    assert "Adiós" in phone.said_last() and phone.ended()


def test_voicemail_is_stored_once_with_its_recording(app, phone):
    make_client(app)
    phone.dial_in()
    phone.press("2")
    phone.press("2")
    assert "deje su mensaje" in phone.said_last()
    assert phone.last.find("Record") is not None
    phone.leave_message(url="https://api.twilio.com/rec/RE9", seconds=12, sid="RE" + "9" * 32)
    assert "recibimos su mensaje" in phone.said_last() and phone.ended()
    [voicemail] = _messages(app)
    assert voicemail.channel == "voicemail" and voicemail.recording_url.endswith("/RE9")
    assert voicemail.recording_duration == 12 and voicemail.from_number == CALLER


def test_hours_are_read_then_the_menu_returns(app, phone):
    make_client(app, business_hours={"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]],
                                     "wed": [], "thu": [], "fri": [], "sat": [],
                                     "sun": [["10:00", "12:30"]]})
    phone.dial_in()
    phone.press("1")
    phone.say("what are your hours")
    said = phone.said_last()
    assert "Monday to Tuesday, 9 AM to 5 PM" in said and "Sunday, 10 AM to 12:30 PM" in said
    assert "To book an appointment" in said


def test_talk_to_a_person_dials_the_forwarding_number(app, phone):
    make_client(app, forwarding_number="+13125550123")
    phone.dial_in()
    phone.press("1")
    phone.press("4")
    dial = phone.last.find("Dial")
    assert dial is not None and dial.text == "+13125550123"
    phone.post(dial.get("action"), DialCallStatus="no-answer")
    assert "Nobody is available" in phone.said_last()
    assert phone.last.find("Record") is not None


def test_talk_to_a_person_without_forwarding_takes_a_message(app, phone):
    make_client(app)
    phone.dial_in()
    phone.press("1")
    phone.press("4")
    assert phone.last.find("Dial") is None and phone.last.find("Record") is not None


def test_returning_caller_skips_the_menu_in_their_language(app, client, phone):
    from tests.voice.conftest import Phone

    make_client(app, custom_greeting=None)
    phone.dial_in()
    phone.press("2")
    again = Phone(client, app)
    again.dial_in()
    assert "Le atiende Lina" in again.said_last()
    assert again.last.find("Gather").get("language") == "es-US"


def test_custom_greeting_is_spoken(app, phone):
    make_client(app, custom_greeting="Welcome to the smile studio.")
    phone.dial_in()
    phone.press("1")
    assert phone.said_last().startswith("Welcome to the smile studio.")


def test_replayed_confirmation_books_once_and_texts_once(app, phone):
    make_client(app)
    phone.dial_in()
    phone.press("1")
    phone.press("1")
    phone.say("Ann Lee")
    phone.press("1")
    phone.say("tomorrow at 11 am")
    action = phone.last.find("Gather").get("action")
    first = phone.post(action, Digits="1")
    second = phone.post(action, Digits="1")
    assert spoken(first) == spoken(second)
    assert len(_appointments(app)) == 1 and len(_messages(app)) == 1
    with app.app_context():
        call = db.session.scalar(sa.select(Call))
        assert call.step == "ended" and call.state["appointment_id"]


def test_offered_time_can_be_picked_by_voice_in_spanish(app, phone):
    client_id = make_client(app)
    from datetime import datetime

    day, tz, _, _ = _tomorrow_local(10)
    taken = datetime(day.year, day.month, day.day, 10, 0, tzinfo=tz)
    with app.app_context():
        db.session.add(Appointment(client_id=client_id, customer_name="Earlier",
                                   customer_phone="+13125550777", starts_at=taken,
                                   ends_at=taken + timedelta(minutes=30),
                                   confirmation_code="TAKEN2"))
        db.session.commit()
        db.session.remove()
    phone.dial_in()
    phone.press("2")
    phone.press("1")
    phone.say("Ana Ruiz")
    phone.press("1")
    phone.say("mañana a las diez")
    assert "no está disponible" in phone.said_last()
    phone.say("la segunda")
    assert "Tengo mañana, " in phone.said_last() and "a las 9:30 de la mañana" in phone.said_last()


def test_transcription_arriving_after_the_recording_is_added_to_the_voicemail(app, phone):
    make_client(app)
    phone.dial_in()
    phone.press("1")
    phone.press("2")
    transcription_url = phone.last.find("Record").get("transcribeCallback")
    phone.leave_message(sid="RE" + "7" * 32)
    phone.post(transcription_url, RecordingSid="RE" + "7" * 32,
               TranscriptionText="please call me back", TranscriptionStatus="completed")
    [voicemail] = _messages(app)
    assert voicemail.transcription == "please call me back" and voicemail.language == "en"


@pytest.mark.parametrize(("spoken_number", "language_key"), [
    ("three one two double five five oh one nine nine", "1"),
    ("tres uno dos cinco cinco cinco cero uno nueve nueve", "2"),
])
def test_a_spoken_phone_number_in_words_is_understood_in_either_language(
    app, phone, spoken_number, language_key
):
    make_client(app)
    phone.dial_in()
    phone.press(language_key)
    phone.press("1")
    phone.say("Maria Lopez")
    phone.say(spoken_number)
    phone.say("tomorrow at 10 am" if language_key == "1" else "mañana a las diez")
    phone.press("1")
    [appointment] = _appointments(app)
    assert appointment.customer_phone == "+13125550199"


def test_a_spoken_phone_number_too_short_is_asked_again(app, phone):
    make_client(app)
    phone.dial_in()
    phone.press("1")
    phone.press("1")
    phone.say("Maria Lopez")
    phone.say("five five five")
    assert "Sorry, I didn't understand that." in phone.said_last()
    assert "say your phone number" in phone.said_last()


def test_a_caller_from_a_sip_trunk_books_with_the_number_they_give(app, phone):
    make_client(app)
    phone.caller = "sip:+14155551234@ringly-trunk.pstn.us1.twilio.com"  # 49 characters
    phone.dial_in()
    phone.press("1")
    phone.press("1")
    phone.say("Maria Lopez")
    assert "press 1" not in phone.said_last()  # no phone number to offer back
    phone.press("3125550188")
    phone.say("tomorrow at 10 am")
    phone.press("1")
    assert "You're booked for" in phone.said_last()
    [appointment] = _appointments(app)
    assert appointment.customer_phone == "+13125550188"
    with app.app_context():
        call = db.session.scalar(sa.select(Call))
        assert call.from_number == phone.caller
        db.session.remove()


# -- read-back, "no" at confirmation, past times, spoken answers to "press 1" ---------------
# Wednesday 2 December 2026, 8 AM in Chicago (the clients' zone): the clock of these calls.
WEDNESDAY_8AM = datetime(2026, 12, 2, 8, 0, tzinfo=zone("America/Chicago"))
LANGUAGE_KEY = {"en": "1", "es": "2"}


def _to_time_question(phone, locale: str, name: str = "Ann Lee") -> None:
    phone.dial_in()
    phone.press(LANGUAGE_KEY[locale])
    phone.press("1")
    phone.say(name)
    phone.press("1")


def _local(appointment) -> datetime:
    return appointment.starts_at.astimezone(zone("America/Chicago"))


@pytest.mark.parametrize(("locale", "said", "heard"), [
    ("en", "tomorrow at 10 am", "I have tomorrow, Thursday December 3, at 10 AM."),
    ("en", "today at 3 pm", "I have today, Wednesday December 2, at 3 PM."),
    ("en", "friday at 10 am", "I have Friday, December 4 at 10 AM."),
    ("es", "mañana a las diez", "Tengo mañana, jueves 3 de diciembre, a las 10 de la mañana."),
    ("es", "hoy a las tres", "Tengo hoy, miércoles 2 de diciembre, a las 3 de la tarde."),
    ("es", "el viernes a las diez", "Tengo el viernes 4 de diciembre a las 10 de la mañana."),
])
def test_read_back_names_today_or_tomorrow_with_the_weekday_and_date(app, phone, locale, said,
                                                                     heard):
    make_client(app)
    with time_machine.travel(WEDNESDAY_8AM, tick=True):
        _to_time_question(phone, locale)
        phone.say(said)
        assert phone.said_last().startswith(heard), phone.said_last()
        phone.press("1")
    booked = "You're booked for " if locale == "en" else "Su cita quedó para "
    when = heard.removeprefix("I have ").removeprefix("Tengo ").rstrip(".")
    assert phone.said_last().startswith(booked + when), phone.said_last()


@pytest.mark.parametrize(("locale", "refusal", "first", "second", "hour"), [
    ("en", "no", "tomorrow at 10 am", "friday at 2 pm", 14),
    ("en", "2", "tomorrow at 10 am", "friday at 2 pm", 14),
    ("es", "no gracias", "mañana a las diez", "el viernes a las dos de la tarde", 14),
    ("es", "2", "mañana a las diez", "el viernes a las dos de la tarde", 14),
])
def test_no_at_confirmation_asks_the_time_again_and_keeps_name_and_phone(
    app, phone, locale, refusal, first, second, hour
):
    make_client(app)
    with time_machine.travel(WEDNESDAY_8AM, tick=True):
        _to_time_question(phone, locale, name="Rosa Díaz")
        phone.say(first)
        if refusal.isdigit():
            phone.press(refusal)
        else:
            phone.say(refusal)
        again = ("All right, let's find another time. What day and time" if locale == "en"
                 else "De acuerdo, busquemos otra hora. ¿Qué día")
        assert phone.said_last().startswith(again), phone.said_last()
        assert _appointments(app) == []
        phone.say(second)
        phone.say("yes" if locale == "en" else "sí")
    [appointment] = _appointments(app)
    assert (_local(appointment).day, _local(appointment).hour) == (4, hour)
    assert appointment.customer_name == "Rosa Díaz" and appointment.customer_phone == CALLER


@pytest.mark.parametrize(("locale", "said", "passed"), [
    ("en", "today at 9", "Sorry, today, Wednesday December 2, at 9 AM has already passed."),
    ("es", "hoy a las nueve", "Lo siento, hoy, miércoles 2 de diciembre, a las 9 de la mañana "
                              "ya pasó."),
])
def test_a_time_already_past_today_is_never_offered_or_booked(app, phone, locale, said, passed):
    make_client(app)
    ten = WEDNESDAY_8AM + timedelta(hours=2)
    with time_machine.travel(ten, tick=True):
        _to_time_question(phone, locale)
        phone.say(said)
        assert phone.said_last().startswith(passed), phone.said_last()
        with app.app_context():
            call = db.session.scalar(sa.select(Call))
            offered = [datetime.fromisoformat(iso) for iso in call.state["options"]]
            db.session.remove()
        assert len(offered) == 3 and all(moment > ten for moment in offered)
        phone.press("1")
        phone.press("1")
    [appointment] = _appointments(app)
    assert appointment.starts_at == offered[0] and appointment.starts_at > ten


def test_a_time_that_passes_while_the_caller_decides_is_not_booked(app, phone):
    make_client(app)
    with time_machine.travel(WEDNESDAY_8AM, tick=True) as clock:
        _to_time_question(phone, "en")
        phone.say("today at 10 am")
        assert phone.said_last().startswith("I have today, Wednesday December 2, at 10 AM.")
        clock.move_to(WEDNESDAY_8AM + timedelta(hours=2, minutes=5))
        phone.say("yes")
        said = phone.said_last()
        assert said.startswith("Sorry, today, Wednesday December 2, at 10 AM has already passed.")
        assert "The nearest free times are" in said and not phone.ended()
    assert _appointments(app) == []


@pytest.mark.parametrize(("locale", "yes"), [
    ("en", "yes"), ("en", "yeah"), ("en", "sure"), ("en", "that's right"), ("en", "one"),
    ("es", "sí"), ("es", "claro"), ("es", "correcto"), ("es", "sí, por favor"),
])
def test_a_spoken_yes_uses_the_number_the_caller_is_calling_from(app, phone, locale, yes):
    make_client(app)
    phone.dial_in()
    phone.press(LANGUAGE_KEY[locale])
    phone.press("1")
    phone.say("Ann Lee")
    gather = phone.last.find("Gather")
    assert gather.get("input") == "dtmf speech"
    assert ("yes" if locale == "en" else "sí") in gather.get("hints", "")
    phone.say(yes)
    assert ("What day and time" if locale == "en" else "Qué día") in phone.said_last()
    phone.say("tomorrow at 10 am" if locale == "en" else "mañana a las diez")
    phone.say(yes)
    assert phone.ended()
    [appointment] = _appointments(app)
    assert appointment.customer_phone == CALLER


@pytest.mark.parametrize(("locale", "no", "ask"), [
    ("en", "no", "Please enter or say your phone number."),
    ("en", "nope", "Please enter or say your phone number."),
    ("es", "no gracias", "Por favor, marque o diga su número de teléfono."),
])
def test_a_spoken_no_to_the_callers_own_number_asks_for_another(app, phone, locale, no, ask):
    make_client(app)
    phone.dial_in()
    phone.press(LANGUAGE_KEY[locale])
    phone.press("1")
    phone.say("Ann Lee")
    phone.say(no)
    assert phone.said_last() == ask and not phone.ended()
    phone.say("312 555 0142")
    phone.say("tomorrow at 10 am" if locale == "en" else "mañana a las diez")
    phone.press("1")
    [appointment] = _appointments(app)
    assert appointment.customer_phone == "+13125550142"


@pytest.mark.parametrize(("language", "intent", "locale"), [
    ("English", "book", "en"), ("english please", "I'd like an appointment", "en"),
    ("one", "one", "en"), ("español", "una cita", "es"), ("Spanish", "quiero reservar", "es"),
    ("dos", "uno", "es"),
])
def test_menu_choices_take_their_spoken_words(app, phone, language, intent, locale):
    make_client(app)
    phone.dial_in()
    phone.say(language)
    intent_gather = phone.last.find("Gather")
    assert intent_gather.get("input") == "dtmf speech" and intent_gather.get("hints")
    phone.say(intent)
    assert ("first and last name" if locale == "en" else "nombre y apellido") in phone.said_last()


@pytest.mark.parametrize(("person", "locale"), [("a person please", "en"), ("persona", "es")])
def test_asking_for_a_person_by_voice_connects(app, phone, person, locale):
    make_client(app, forwarding_number="+13125550123")
    phone.dial_in()
    phone.press(LANGUAGE_KEY[locale])
    phone.say(person)
    assert phone.last.find("Dial") is not None


@pytest.mark.parametrize("locale", ["en", "es"])
def test_confirmation_and_pick_gathers_listen_for_speech_with_hints(app, phone, locale):
    client_id = make_client(app)
    with time_machine.travel(WEDNESDAY_8AM, tick=True):
        ten = WEDNESDAY_8AM + timedelta(days=1, hours=2)
        with app.app_context():
            db.session.add(Appointment(client_id=client_id, customer_name="Earlier",
                                       customer_phone="+13125550777", starts_at=ten,
                                       ends_at=ten + timedelta(minutes=30),
                                       confirmation_code="TAKEN3"))
            db.session.commit()
            db.session.remove()
        _to_time_question(phone, locale)
        phone.say("tomorrow at 10 am" if locale == "en" else "mañana a las diez")
        pick = phone.last.find("Gather")
        assert pick.get("input") == "dtmf speech"
        assert ("second one" if locale == "en" else "la segunda") in pick.get("hints")
        phone.say("the second one" if locale == "en" else "la segunda")
        confirm = phone.last.find("Gather")
        assert confirm.get("input") == "dtmf speech"
        assert ("yes" if locale == "en" else "sí") in confirm.get("hints")
        assert ("9:30 AM" if locale == "en" else "9:30 de la mañana") in phone.said_last()
