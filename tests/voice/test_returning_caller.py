"""A returning caller hears their upcoming appointment and keeps, changes or cancels it by phone."""
from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringly.admin.models import AuditEvent
from ringly.booking import services as booking
from ringly.booking.models import Appointment
from ringly.booking.slots import zone
from ringly.db import db, utcnow
from ringly.messaging.models import Message
from tests.voice.conftest import CALLER, Phone, make_client, spoken

CHICAGO = zone("America/Chicago")
OTHER_CALLER = "+13125550777"


def _day(offset: int) -> date:
    return (utcnow().astimezone(CHICAGO) + timedelta(days=offset)).date()


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHICAGO)


def _english(moment: datetime) -> str:
    """How Rachel says a local time: "Thursday, December 3 at 10 AM"."""
    clock = f"{moment.hour % 12 or 12}{f':{moment.minute:02d}' if moment.minute else ''} " \
            f"{'AM' if moment.hour < 12 else 'PM'}"
    return f"{moment:%A}, {moment:%B} {moment.day} at {clock}"


def _book(app, client_id: int, starts_at: datetime, *, phone: str = CALLER,
          name: str = "Maria Lopez", status: str = "booked") -> int:
    with app.app_context():
        appointment = Appointment(
            client_id=client_id, customer_name=name, customer_phone=phone,
            starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30), status=status,
            confirmation_code=uuid.uuid4().hex[:6].upper(), language="en", source="voice")
        db.session.add(appointment)
        db.session.commit()
        appointment_id = appointment.id
        db.session.remove()
    return appointment_id


def _rows(app, model) -> list:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(model).order_by(model.id)))
        db.session.expunge_all()
        db.session.remove()
    return rows


def _events(app, kind: str) -> list[AuditEvent]:
    return [event for event in _rows(app, AuditEvent) if event.kind == kind]


@pytest.fixture
def tomorrow_at_ten(app) -> Iterator[tuple[int, int, datetime]]:
    """A client, and the caller's appointment with it tomorrow at 10:00 Chicago time."""
    client_id = make_client(app)
    ten = _at(_day(1), 10)
    yield client_id, _book(app, client_id, ten), ten


def _spanish_caller(app, http) -> Phone:
    """The caller chose Spanish on an earlier call, so this one greets them in Spanish."""
    earlier = Phone(http, app)
    earlier.dial_in()
    earlier.press("2")
    return Phone(http, app)


# -- hearing it -------------------------------------------------------------------------------
@pytest.mark.smoke
def test_returning_caller_hears_the_appointment_after_the_english_greeting(
        app, phone, tomorrow_at_ten):
    _, _, ten = tomorrow_at_ten
    phone.dial_in()
    phone.press("1")
    said = phone.said_last()
    assert said.startswith("Thank you for calling Sunrise Dental. This is Rachel.")
    assert (f"You have an appointment on {_english(ten)}. To keep it, press 1; to change it, "
            "press 2; to cancel, press 3.") in said
    assert "To book an appointment" not in said
    assert "/voice/rachel/returning/" in phone.last.find("Gather").get("action")


def test_a_remembered_spanish_caller_hears_it_from_lina_on_the_first_answer(
        app, client, tomorrow_at_ten):
    phone = _spanish_caller(app, client)
    phone.dial_in()
    heard = spoken(phone.last)
    assert heard[0] == ("Gracias por llamar a Sunrise Dental. Le atiende Lina.", "es-US")
    months = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
              "septiembre", "octubre", "noviembre", "diciembre")
    days = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
    day = _day(1)
    assert heard[1] == (f"Tiene una cita el {days[day.weekday()]} {day.day} de "
                        f"{months[day.month - 1]} a las 10 de la mañana. Para mantenerla, "
                        "oprima 1; para cambiarla, oprima 2; para cancelarla, oprima 3.", "es-US")
    gather = phone.last.find("Gather")
    assert gather.get("language") == "es-US" and "/voice/lina/returning/" in gather.get("action")


def test_a_caller_without_an_upcoming_appointment_gets_the_usual_menu(app, phone):
    client_id = make_client(app)
    # Someone else's appointment, a cancelled one, and this caller's with another client.
    _book(app, client_id, _at(_day(1), 10), phone=OTHER_CALLER)
    _book(app, client_id, _at(_day(1), 11), status="cancelled")
    other_client = make_client(app, ringlypro_number="+13125550101", email="x@other.example")
    _book(app, other_client, _at(_day(1), 12))
    phone.dial_in()
    phone.press("1")
    assert "To book an appointment, press 1" in phone.said_last()
    assert "You have an appointment" not in phone.said_last()
    assert "/intent/" in phone.last.find("Gather").get("action")


def test_an_appointment_already_past_is_not_announced(app, phone):
    client_id = make_client(app)
    _book(app, client_id, utcnow().replace(microsecond=0) - timedelta(hours=2))
    _book(app, client_id, _at(_day(-1), 10))
    phone.dial_in()
    phone.press("1")
    assert "You have an appointment" not in phone.said_last()
    assert "To book an appointment, press 1" in phone.said_last()


def test_of_several_upcoming_appointments_the_soonest_is_offered(app, phone):
    client_id = make_client(app)
    _book(app, client_id, _at(_day(3), 15))
    _book(app, client_id, _at(_day(2), 9))
    _book(app, client_id, _at(_day(5), 11))
    phone.dial_in()
    phone.press("1")
    assert f"You have an appointment on {_english(_at(_day(2), 9))}." in phone.said_last()


def test_the_first_answer_stays_one_read_one_write_with_an_appointment_to_announce(
        app, phone, tomorrow_at_ten):
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def on_execute(connection, cursor, statement, parameters, context, executemany):
        seen.append(statement.split(None, 1)[0].upper())

    sa.event.listen(engine, "before_cursor_execute", on_execute)
    try:
        phone.dial_in()
        assert seen == ["SELECT", "INSERT"]
        seen.clear()
        phone.press("1")  # the announcement comes from the state the first answer stored
        assert seen == ["SELECT", "UPDATE"]
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)
    assert "You have an appointment" in phone.said_last()


# -- keeping it -------------------------------------------------------------------------------
def test_keeping_the_appointment_changes_nothing_and_goes_on_to_the_menu(
        app, phone, tomorrow_at_ten):
    _, appointment_id, _ = tomorrow_at_ten
    phone.dial_in()
    phone.press("1")
    phone.press("1")
    said = phone.said_last()
    assert said.startswith("Great, your appointment stays as it is.")
    assert "To book an appointment, press 1" in said and not phone.ended()
    [appointment] = _rows(app, Appointment)
    assert appointment.id == appointment_id and appointment.status == "booked"
    assert _rows(app, Message) == []


# -- changing it ------------------------------------------------------------------------------
@pytest.mark.smoke
def test_changing_books_the_new_time_then_cancels_the_old_one_keeping_name_and_phone(
        app, phone, tomorrow_at_ten):
    _, old_id, ten = tomorrow_at_ten
    phone.dial_in()
    phone.press("1")
    phone.press("2")
    said = phone.said_last()
    assert "Let's find a new time for your appointment." in said and "What day and time" in said
    phone.say("tomorrow at 2 pm")
    assert "I have" in phone.said_last() and "at 2 PM" in phone.said_last()
    phone.press("1")
    said = phone.said_last()
    assert said.startswith(f"Your appointment is moved to {_english(_at(_day(1), 14))}.")
    assert "We'll send you a text message" in said and phone.ended()

    old, new = _rows(app, Appointment)
    assert old.id == old_id and old.status == "cancelled" and old.cancelled_at is not None
    assert new.status == "booked" and new.starts_at == _at(_day(1), 14)
    assert (new.customer_name, new.customer_phone) == ("Maria Lopez", CALLER)
    assert new.call_sid == phone.call_sid and new.confirmation_code != old.confirmation_code
    assert new.confirmation_code in said.replace(", ", "")
    [text] = _rows(app, Message)
    assert (text.purpose, text.status, text.to_number) == ("change", "queued", CALLER)
    assert text.dedupe_key == f"change:{new.id}" and text.appointment_id == new.id
    assert new.confirmation_code in text.body
    assert "10 AM" in text.body and "2 PM" in text.body  # from the old time to the new one
    [event] = _events(app, "appointment.changed")
    assert event.subject_id == str(new.id) and event.data["from_appointment_id"] == old_id
    assert ten == old.starts_at


def test_a_change_whose_text_the_policy_refuses_still_moves_the_appointment(
        app, phone, tomorrow_at_ten, monkeypatch):
    monkeypatch.setitem(app.config, "TEXTS_PER_CALLER_PER_DAY", 0)
    phone.dial_in()
    phone.press("1")
    phone.press("2")
    phone.say("tomorrow at 3 pm")
    phone.press("1")
    said = phone.said_last()
    assert "I can't text that number, but the change is confirmed" in said and phone.ended()
    old, new = _rows(app, Appointment)
    assert (old.status, new.status) == ("cancelled", "booked")
    [text] = _rows(app, Message)
    assert text.purpose == "change" and text.status == "refused" and text.refused_reason


def test_a_spanish_caller_changes_by_voice(app, client, tomorrow_at_ten):
    phone = _spanish_caller(app, client)
    phone.dial_in()
    phone.say("quiero cambiarla")
    assert "Busquemos una nueva hora para su cita." in phone.said_last()
    phone.say("mañana a las tres de la tarde")
    assert "a las 3 de la tarde" in phone.said_last()
    phone.say("sí")
    assert phone.said_last().startswith("Su cita se cambió para") and phone.ended()
    old, new = _rows(app, Appointment)
    assert old.status == "cancelled" and new.starts_at == _at(_day(1), 15)
    assert new.language == "es"
    [text] = _rows(app, Message)
    assert text.language == "es" and "se cambió" in text.body and "CANCELAR" in text.body


def test_a_change_to_a_taken_time_keeps_the_old_appointment(app, phone, tomorrow_at_ten):
    client_id, old_id, _ = tomorrow_at_ten
    _book(app, client_id, _at(_day(1), 14), phone=OTHER_CALLER, name="Earlier")
    phone.dial_in()
    phone.press("1")
    phone.press("2")
    phone.say("tomorrow at 2 pm")
    said = phone.said_last()
    assert "is not available" in said and "The nearest free times are" in said
    mine = [a for a in _rows(app, Appointment) if a.customer_phone == CALLER]
    assert [(a.id, a.status) for a in mine] == [(old_id, "booked")]
    assert _rows(app, Message) == []


def test_a_time_taken_between_read_back_and_yes_keeps_the_old_one_and_offers_others(
        app, phone, tomorrow_at_ten):
    client_id, old_id, _ = tomorrow_at_ten
    phone.dial_in()
    phone.press("1")
    phone.press("2")
    phone.say("tomorrow at 2 pm")
    assert "I have" in phone.said_last()
    _book(app, client_id, _at(_day(1), 14), phone=OTHER_CALLER, name="Quicker")
    phone.press("1")
    said = phone.said_last()
    assert "Sorry, that time was just taken." in said and "The nearest free times" in said
    mine = [a for a in _rows(app, Appointment) if a.customer_phone == CALLER]
    assert [(a.id, a.status) for a in mine] == [(old_id, "booked")]
    assert _rows(app, Message) == [] and _events(app, "appointment.changed") == []
    phone.press("1")  # the first time offered
    phone.press("1")
    assert phone.said_last().startswith("Your appointment is moved to")
    mine = [a for a in _rows(app, Appointment) if a.customer_phone == CALLER]
    assert [a.status for a in mine] == ["cancelled", "booked"]


def test_naming_the_time_already_booked_changes_nothing_and_asks_again(
        app, phone, tomorrow_at_ten):
    _, old_id, ten = tomorrow_at_ten
    phone.dial_in()
    phone.press("1")
    phone.press("2")
    phone.say("tomorrow at 10 am")
    said = phone.said_last()
    assert said.startswith(f"That's the time you already have, {_english(ten)}.")
    assert "What day and time" in said and not phone.ended()
    [appointment] = _rows(app, Appointment)
    assert appointment.id == old_id and appointment.status == "booked"


def test_rescheduling_to_the_same_slot_is_a_no_op(app, tomorrow_at_ten):
    _, old_id, ten = tomorrow_at_ten
    with app.app_context():
        appointment = db.session.get(Appointment, old_id)
        same = booking.reschedule(appointment, ten, call_sid="CA" + "1" * 32, language="en",
                                  now=utcnow())
        db.session.commit()
        assert same is appointment and appointment.status == "booked"
        db.session.remove()
    assert len(_rows(app, Appointment)) == 1 and _events(app, "appointment.changed") == []


def test_a_replayed_change_confirmation_moves_once_and_texts_once(app, phone, tomorrow_at_ten):
    phone.dial_in()
    phone.press("1")
    phone.press("2")
    phone.say("tomorrow at 4 pm")
    action = phone.last.find("Gather").get("action")
    first = phone.post(action, Digits="1")
    second = phone.post(action, Digits="1")
    assert spoken(first) == spoken(second)
    assert [a.status for a in _rows(app, Appointment)] == ["cancelled", "booked"]
    assert len(_rows(app, Message)) == 1 and len(_events(app, "appointment.changed")) == 1


# -- cancelling it ----------------------------------------------------------------------------
@pytest.mark.smoke
def test_cancelling_asks_first_then_cancels_and_texts(app, phone, tomorrow_at_ten):
    _, appointment_id, ten = tomorrow_at_ten
    phone.dial_in()
    phone.press("1")
    phone.press("3")
    assert phone.said_last() == (f"To cancel your appointment on {_english(ten)}, press 1 or "
                                 "say cancel. To keep it, press 2.")
    assert [a.status for a in _rows(app, Appointment)] == ["booked"]  # not before the yes
    phone.press("1")
    said = phone.said_last()
    assert said.startswith(f"Your appointment on {_english(ten)} is cancelled.")
    assert "We'll send you a text message" in said and phone.ended()
    [appointment] = _rows(app, Appointment)
    assert appointment.status == "cancelled" and appointment.cancelled_at is not None
    [text] = _rows(app, Message)
    assert (text.purpose, text.status, text.to_number) == ("cancellation", "queued", CALLER)
    assert text.dedupe_key == f"cancellation:{appointment_id}"
    assert text.body.startswith("Sunrise Dental: your appointment on") and "10 AM" in text.body
    assert text.call_sid == phone.call_sid
    [event] = _events(app, "appointment.cancelled")
    assert event.subject_id == str(appointment_id)


def test_declining_the_cancel_keeps_the_appointment(app, phone, tomorrow_at_ten):
    phone.dial_in()
    phone.press("1")
    phone.press("3")
    phone.press("2")
    assert phone.said_last().startswith("Great, your appointment stays as it is.")
    assert "To book an appointment" in phone.said_last()
    assert [a.status for a in _rows(app, Appointment)] == ["booked"]
    assert _rows(app, Message) == []


def test_a_cancel_whose_text_the_policy_refuses_still_cancels(
        app, phone, tomorrow_at_ten, monkeypatch):
    monkeypatch.setitem(app.config, "TEXTS_PER_CLIENT_PER_DAY", 0)
    phone.dial_in()
    phone.press("1")
    phone.press("3")
    phone.press("1")
    assert "I can't text that number, but the cancellation is confirmed" in phone.said_last()
    assert [a.status for a in _rows(app, Appointment)] == ["cancelled"]
    [text] = _rows(app, Message)
    assert text.purpose == "cancellation" and text.status == "refused"


def test_an_appointment_cancelled_by_text_during_the_call_is_not_cancelled_again(
        app, phone, tomorrow_at_ten):
    _, appointment_id, _ = tomorrow_at_ten
    phone.dial_in()
    phone.press("1")
    phone.press("3")
    with app.app_context():
        booking.cancel(db.session.get(Appointment, appointment_id))
        db.session.commit()
        db.session.remove()
    phone.press("1")
    assert phone.said_last().startswith("I couldn't find that appointment any more.")
    assert "To book an appointment" in phone.said_last()
    assert _rows(app, Message) == [] and _events(app, "appointment.cancelled") == []


# -- spoken answers ---------------------------------------------------------------------------
@pytest.mark.parametrize(("language_key", "answer", "then", "status"), [
    ("1", "keep it please", None, "booked"),
    ("1", "I'd like to cancel", "yes", "cancelled"),
    ("1", "cancel", "no, keep it", "booked"),
    ("2", "mantenerla", None, "booked"),
    ("2", "cancelar", "sí", "cancelled"),
    ("2", "quiero cancelarla", "no, mejor mantenerla", "booked"),
])
def test_spoken_answers_keep_or_cancel(app, phone, tomorrow_at_ten, language_key, answer, then,
                                       status):
    phone.dial_in()
    phone.press(language_key)
    phone.say(answer)
    if then is not None:
        assert "/cancel-confirm/" in phone.last.find("Gather").get("action")
        phone.say(then)
    assert [a.status for a in _rows(app, Appointment)] == [status]


@pytest.mark.parametrize(("language_key", "answer", "then", "status"), [
    # The keys said, as every other menu takes them: "three", "press three", "3", "tres".
    ("1", "three", "yes", "cancelled"),
    ("1", "press three", "press one", "cancelled"),
    ("1", "3", "one", "cancelled"),
    ("1", "number three", "two", "booked"),
    ("1", "cancel it", "yeah", "cancelled"),
    ("1", "cancel my appointment", "sure", "cancelled"),
    ("1", "cancel it", "nope", "booked"),
    ("1", "three", "no thanks", "booked"),
    ("2", "tres", "sí", "cancelled"),
    ("2", "oprimo tres", "uno", "cancelled"),
    ("2", "el tres", "claro", "cancelled"),
    ("2", "cancélela", "sí, cancélela", "cancelled"),
    ("2", "tres", "dos", "booked"),
    ("2", "cancelar", "no", "booked"),
])
def test_keys_said_and_yes_or_no_at_the_cancel_question_count(
        app, phone, tomorrow_at_ten, language_key, answer, then, status):
    phone.dial_in()
    phone.press(language_key)
    phone.say(answer)
    assert "/cancel-confirm/" in phone.last.find("Gather").get("action"), phone.said_last()
    phone.say(then)
    assert [a.status for a in _rows(app, Appointment)] == [status], phone.said_last()
    if status == "booked":
        assert "/intent/" in phone.last.find("Gather").get("action")  # kept: on to the menu


@pytest.mark.parametrize(("language_key", "answer", "heard"), [
    ("1", "two", "Let's find a new time for your appointment."),
    ("1", "press two", "Let's find a new time for your appointment."),
    ("1", "change it", "Let's find a new time for your appointment."),
    ("1", "I'd like to reschedule", "Let's find a new time for your appointment."),
    ("1", "one", "Great, your appointment stays as it is."),
    ("1", "keep it", "Great, your appointment stays as it is."),
    ("2", "dos", "Busquemos una nueva hora para su cita."),
    ("2", "cambiar", "Busquemos una nueva hora para su cita."),
    ("2", "cámbiela, por favor", "Busquemos una nueva hora para su cita."),
    ("2", "uno", "Perfecto, su cita se mantiene."),
    ("2", "déjela como está", "Perfecto, su cita se mantiene."),
])
def test_keys_said_and_natural_answers_change_or_keep(app, phone, tomorrow_at_ten,
                                                       language_key, answer, heard):
    phone.dial_in()
    phone.press(language_key)
    phone.say(answer)
    assert phone.said_last().startswith(heard), phone.said_last()
    assert [a.status for a in _rows(app, Appointment)] == ["booked"]


@pytest.mark.parametrize("answer", ["I don't want to cancel", "hmm", ""])
def test_an_unclear_or_contradictory_answer_is_asked_again(app, phone, tomorrow_at_ten, answer):
    phone.dial_in()
    phone.press("1")
    if answer:
        phone.say(answer)
    else:
        phone.stay_silent()
    said = phone.said_last()
    assert said.startswith("Sorry, I didn't") and "You have an appointment on" in said
    assert [a.status for a in _rows(app, Appointment)] == ["booked"]


def test_any_input_at_the_returning_steps_gets_an_answer_that_speaks(app, client):
    client_id = make_client(app)
    keys = st.text(alphabet="0123456789*#", max_size=6)
    slots = itertools.count()  # each caller's appointment in a slot of its own

    @given(digits=keys, speech=st.text(max_size=80), cancel_first=st.booleans())
    @settings(max_examples=25, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def caller_does(digits: str, speech: str, cancel_first: bool) -> None:
        caller = f"+1312{uuid.uuid4().int % 10**7:07d}"
        n = next(slots)
        _book(app, client_id, _at(_day(1 + n // 16), 9 + n % 16 // 2, 30 * (n % 2)),
              phone=caller)
        phone = Phone(client, app, caller=caller)
        phone.dial_in()
        phone.press("1")
        if cancel_first:
            phone.press("3")
        root = phone.post(phone.last.find("Gather").get("action"), Digits=digits,
                          SpeechResult=speech, Confidence="0.5")
        assert spoken(root), "the caller heard nothing"
        assert any(root.find(tag) is not None for tag in ("Gather", "Hangup", "Redirect"))

    caller_does()
