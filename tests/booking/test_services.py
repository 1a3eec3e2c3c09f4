"""Booking on PostgreSQL: one booking per slot even when two callers confirm at the same moment."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ringly.booking import services as booking
from ringly.booking.models import Appointment
from ringly.booking.slots import nearest_free, zone
from ringly.clients.models import Client
from ringly.db import db, utcnow
from ringly.messaging import outbound
from ringly.messaging.models import Message
from tests.voice.conftest import Phone, make_client, spoken


def _tomorrow_at(hour: int, minute: int = 0) -> datetime:
    tz = zone("America/Chicago")
    day = (utcnow().astimezone(tz) + timedelta(days=1)).date()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def test_database_refuses_a_second_booking_of_a_held_slot(app_context):
    client_id = make_client(app_context)
    start = _tomorrow_at(10)

    def appointment(code: str, status: str = "booked") -> Appointment:
        return Appointment(client_id=client_id, customer_name="A", customer_phone="+13125550101",
                           starts_at=start, ends_at=start + timedelta(minutes=30),
                           confirmation_code=code, status=status)

    db.session.add(appointment("CANCL1", "cancelled"))
    db.session.add(appointment("FIRST1"))
    db.session.commit()  # a cancelled booking does not hold the slot
    db.session.add(appointment("SECND1"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_two_callers_confirming_the_same_slot_at_once_get_one_booking(app):
    make_client(app)
    start = _tomorrow_at(11)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def confirm(call_sid: str) -> None:
        with app.app_context():
            client = db.session.scalar(sa.select(Client))
            barrier.wait()
            try:
                appointment = booking.book_slot(
                    client, call_sid=call_sid, name=call_sid, phone="+13125550101",
                    starts_at=start, language="en", now=utcnow())
                outbound.queue_confirmation(appointment, client)
                db.session.commit()
                outcomes.append("booked")
            except booking.SlotTaken:
                db.session.rollback()
                outcomes.append("taken")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=confirm, args=(f"CA{n:032d}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["booked", "taken"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Appointment)) == 1
        # Only the winner's text was queued: the loser's transaction left nothing behind.
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1


def test_losing_caller_is_offered_alternatives_on_the_same_call(app):
    make_client(app)
    phones = [Phone(app.test_client(), app, caller=f"+1312555015{n}") for n in (1, 2)]
    for phone in phones:
        phone.dial_in()
        phone.press("1")
        phone.press("1")
        phone.say(f"Caller {phone.caller[-1]}")
        phone.press("1")
        phone.say("tomorrow at 2 pm")
        assert "I have" in phone.said_last()
    barrier = threading.Barrier(2)

    def confirm(phone: Phone) -> None:
        barrier.wait()
        phone.press("1")

    threads = [threading.Thread(target=confirm, args=(phone,)) for phone in phones]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    results = sorted(phone.said_last() for phone in phones)
    assert results[0].startswith("Sorry, that time was just taken.")
    assert "nearest free times" in results[0] and "1:30 PM" in results[0]
    assert results[1].startswith("You're booked for")
    loser = next(phone for phone in phones if phone.said_last().startswith("Sorry"))
    loser.press("1")  # the first alternative, read back, then confirmed
    loser.press("1")
    assert loser.said_last().startswith("You're booked for")
    with app.app_context():
        starts = sorted(db.session.scalars(sa.select(Appointment.starts_at)))
        assert len(starts) == 2 and starts[0] != starts[1]
    assert all(text for phone in phones for text, _ in spoken(phone.last))


def test_nearest_free_skips_taken_closed_and_past_slots():
    from types import SimpleNamespace

    client = SimpleNamespace(timezone="America/Chicago", slot_minutes=60, business_hours={
        "mon": [["09:00", "12:00"]], "tue": [], "wed": [], "thu": [], "fri": [],
        "sat": [], "sun": []})
    tz = zone("America/Chicago")
    monday = datetime(2026, 12, 7, 10, tzinfo=tz)
    now = datetime(2026, 12, 7, 8, tzinfo=tz)
    got = nearest_free(client, monday, {monday}, now)
    assert got == [monday - timedelta(hours=1), monday + timedelta(hours=1),
                   monday + timedelta(days=7) - timedelta(hours=1)]
