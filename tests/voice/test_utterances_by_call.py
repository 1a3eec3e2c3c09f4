"""Every row of the utterance table (tests/booking/utterances.py) books the slot it means through
a whole call: language, book, name, the caller's number, the time (for a pick row: a taken
time, the three offered, then the pick), the read-back, yes. In English and Spanish, on the
Flask test client with signed webhooks, at the row's own moment (the clock is set to it)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask

from ringly.booking.models import Appointment
from ringly.booking.slots import zone
from ringly.db import db
from tests.booking.utterances import (
    HOURS,
    NOW,
    OFFERED,
    SLOT_MINUTES,
    TABLE,
    TAKEN,
    TZ,
    Utterance,
    row_id,
)
from tests.support.tasks import record_sent_tasks
from tests.voice.conftest import Phone, make_client

NAME = {"en": "Maria Lopez", "es": "José Pérez"}
YES = {"en": "yes", "es": "sí"}
SAID = {  # what the caller hears at each step
    "en": {"menu": "To book an appointment", "name": "first and last name",
           "phone": "number you're calling from", "time": "What day and time",
           "offered": "The nearest free times are", "read_back": "I have ",
           "booked": "You're booked for"},
    "es": {"menu": "Para hacer una cita", "name": "nombre y apellido",
           "phone": "número desde el que llama", "time": "Qué día",
           "offered": "Las horas libres más cercanas son", "read_back": "Tengo ",
           "booked": "Su cita quedó para"},
}


@pytest.fixture(scope="module")
def shared(request: pytest.FixtureRequest) -> Iterator[tuple[Flask, Any]]:
    """The session's app and a test client, without `app` among the rows' own fixtures: the
    conftest empties every table before each test that names `app`, which took three quarters
    of this module's time. The rows need no empty database: each calls its own client's number
    from its own caller and reads only that client's appointments. Tasks are recorded, not
    sent, as for every test."""
    app = request.getfixturevalue("app")
    with pytest.MonkeyPatch.context() as patch:
        record_sent_tasks(app, patch)
        yield app, app.test_client()


def _take(app, client_id: int, row: Utterance) -> None:
    taken = Utterance(row.locale, "", TAKEN).local("slot")
    with app.app_context():
        db.session.add(Appointment(client_id=client_id, customer_name="Earlier",
                                   customer_phone="+13125550777", starts_at=taken,
                                   ends_at=taken + timedelta(minutes=SLOT_MINUTES),
                                   status="booked",
                                   confirmation_code=f"TK{TABLE.index(row):04d}"))
        db.session.commit()
        db.session.remove()


def _booked(app, client_id: int) -> list[Appointment]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Appointment).where(
            Appointment.client_id == client_id, Appointment.customer_name != "Earlier")))
        db.session.expunge_all()
        db.session.remove()
    return rows


def test_the_table_has_at_least_sixty_rows_per_language_and_picks_in_both():
    for locale in ("en", "es"):
        rows = [row for row in TABLE if row.locale == locale]
        assert len(rows) >= 60 and len({row.text for row in rows}) == len(rows)
        assert sum(1 for row in rows if row.first) >= 8
    assert {row.slot for row in TABLE if row.first} <= set(OFFERED)


@pytest.mark.parametrize("row", TABLE, ids=row_id)
def test_every_utterance_books_its_slot_through_a_whole_call(shared, row: Utterance):
    app, client = shared
    index = TABLE.index(row)
    # No minimum notice (default 60 minutes): some rows' slot is an hour after their clock,
    # which ticks on during the call. The notice has its own tests in tests/booking.
    client_id = make_client(app, timezone=TZ, business_hours=HOURS, slot_minutes=SLOT_MINUTES,
                            min_notice_minutes=0, ringlypro_number=f"+1312555{1000 + index:04d}")
    if row.first:
        _take(app, client_id, row)
    said = SAID[row.locale]
    with time_machine.travel(row.local("now"), tick=True):
        phone = Phone(client, app, to=f"+1312555{1000 + index:04d}",
                      caller=f"+1312555{3000 + index:04d}")
        phone.dial_in()
        phone.press("1" if row.locale == "en" else "2")
        assert said["menu"] in phone.said_last()
        phone.press("1")
        assert said["name"] in phone.said_last()
        phone.say(NAME[row.locale])
        assert said["phone"] in phone.said_last()
        phone.press("1")
        assert said["time"] in phone.said_last()
        if row.first:
            phone.say(row.first)
            assert said["offered"] in phone.said_last(), phone.said_last()
            if row.keys:
                phone.press(row.text)
            else:
                phone.say(row.text)
        else:
            phone.say(row.text)
        assert phone.said_last().startswith(said["read_back"]), phone.said_last()
        phone.say(YES[row.locale])
        assert phone.said_last().startswith(said["booked"]) and phone.ended(), phone.said_last()
    [appointment] = _booked(app, client_id)
    assert appointment.starts_at == row.local("slot"), (
        f"{row.text!r} booked {appointment.starts_at.astimezone(row.local('slot').tzinfo)}")
    assert appointment.customer_name == NAME[row.locale]
    assert appointment.language == row.locale


# Said on Wednesday, December 2, 2026: each names Sunday, December 6, which is closed.
CLOSED_DAY = [
    ("en", "december 6 at 10", "Sunday, December 6 at 10 AM is not available"),
    ("en", "in four days at 10 am", "Sunday, December 6 at 10 AM is not available"),
    ("es", "en cuatro días a las diez", "domingo 6 de diciembre"),
    ("es", "el 6 de diciembre a las diez", "domingo 6 de diciembre"),
]


@pytest.mark.parametrize(("locale", "text", "closed"), CLOSED_DAY)
def test_a_named_day_that_is_closed_is_said_to_be_so_and_the_times_near_it_offered(
        shared, locale, text, closed):
    """Sunday, December 6 is closed: the caller hears that day is not available and the times
    nearest it (Saturday and Monday), never December 6 of the next year."""
    app, client = shared
    index = 1900 + [row[1] for row in CLOSED_DAY].index(text)
    client_id = make_client(app, timezone=TZ, business_hours=HOURS, slot_minutes=SLOT_MINUTES,
                            min_notice_minutes=0, ringlypro_number=f"+1312555{index:04d}")
    said = SAID[locale]
    with time_machine.travel(Utterance(locale, "", NOW, NOW).local("now"), tick=True):
        phone = Phone(client, app, to=f"+1312555{index:04d}", caller=f"+1312556{index:04d}")
        phone.dial_in()
        phone.press("1" if locale == "en" else "2")
        phone.press("1")
        phone.say(NAME[locale])
        phone.press("1")
        phone.say(text)
        heard = phone.said_last()
        assert closed in heard and said["offered"] in heard, heard
        assert "2027" not in heard, heard
        phone.press("1")
        assert phone.said_last().startswith(said["read_back"]), phone.said_last()
        phone.say(YES[locale])
        assert phone.ended()
    [appointment] = _booked(app, client_id)
    local = appointment.starts_at.astimezone(zone(TZ))
    assert local.date() in (date(2026, 12, 5), date(2026, 12, 7)), local
