"""Booking rules on PostgreSQL: what check_time offers and book_slot books follows each client's
notice, horizon, closed dates, buffer and places per slot, also with callers confirming at once
and through a whole simulated call."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from ringly.booking import services as booking
from ringly.booking.models import Appointment
from ringly.booking.slots import zone
from ringly.clients.models import Client
from ringly.db import db, utcnow
from tests.booking.test_services import _tomorrow_at
from tests.voice.conftest import make_client
from tests.voice.test_calls import CALLER, number, place_call  # noqa: F401 (a fixture)

TZ = zone("America/Chicago")
MONDAY = date(2027, 3, 1)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def _client() -> Client:
    return db.session.scalar(sa.select(Client))


def _book(client: Client, starts_at: datetime, now: datetime, name: str = "Ann Lee",
          call_sid: str | None = None) -> Appointment:
    return booking.book_slot(client, call_sid=call_sid, name=name, phone="+13125550101",
                             starts_at=starts_at, language="en", now=now)


def test_book_slot_refuses_inside_the_notice_past_the_horizon_and_on_closed_dates(app_context):
    make_client(app_context, min_notice_minutes=180, horizon_days=14,
                closed_dates=[{"from": "2027-03-03", "to": "2027-03-04"}])
    client, now = _client(), at(MONDAY, 8)
    for refused in (at(MONDAY, 10, 30),  # two and a half hours away
                    at(MONDAY + timedelta(days=2), 10),  # closed
                    at(MONDAY + timedelta(days=3), 16),  # closed
                    at(MONDAY + timedelta(days=15), 10),  # past the horizon
                    at(MONDAY - timedelta(days=1), 10)):  # past
        with pytest.raises(booking.SlotTaken):
            _book(client, refused, now)
    for booked in (at(MONDAY, 11), at(MONDAY + timedelta(days=1), 10),
                   at(MONDAY + timedelta(days=14), 16, 30)):
        assert _book(client, booked, now).starts_at == booked
    db.session.commit()


def test_check_time_never_offers_a_slot_inside_the_notice(app_context):
    make_client(app_context, min_notice_minutes=180)
    client, now = _client(), at(MONDAY, 8)
    check = booking.check_time(client, "today at 9 am", "en", now)
    assert check.slot is None and check.asked == at(MONDAY, 9)
    assert check.alternatives == [at(MONDAY, 11), at(MONDAY, 11, 30), at(MONDAY, 12)]
    # A part of the day gives its first slot that keeps the notice.
    assert booking.check_time(client, "this morning", "en", now).slot == at(MONDAY, 11)


def test_check_time_offers_no_closed_date_nor_a_day_past_the_horizon(app_context):
    make_client(app_context, horizon_days=3,
                closed_dates=[{"from": "2027-03-02", "to": "2027-03-02"}])
    client, now = _client(), at(MONDAY, 8)
    closed = booking.check_time(client, "tomorrow at 10 am", "en", now)
    assert closed.slot is None and closed.asked == at(MONDAY + timedelta(days=1), 10)
    assert [slot.day for slot in closed.alternatives] == [1, 1, 1]  # Monday's last, by distance
    assert booking.check_time(client, "tomorrow afternoon", "en", now).slot is None
    far = booking.check_time(client, "march 10 at 10 am", "en", now)
    assert far.slot is None
    assert all(slot < at(MONDAY + timedelta(days=4), 0) for slot in far.alternatives)


def test_a_buffer_refuses_slots_crowding_an_existing_appointment(app_context):
    make_client(app_context, buffer_minutes=30)  # slots at 9:00, 10:00, 11:00 ...
    client, now = _client(), at(MONDAY, 6)
    # Booked at 10:30 before the buffer was set: it holds 10:30-11:00 and then 30 minutes.
    db.session.add(Appointment(client_id=client.id, customer_name="Earlier",
                               customer_phone="+13125550777", starts_at=at(MONDAY, 10, 30),
                               ends_at=at(MONDAY, 11), confirmation_code="EARLY1"))
    db.session.commit()
    for crowded in (at(MONDAY, 10), at(MONDAY, 11)):
        with pytest.raises(booking.SlotTaken):
            _book(client, crowded, now)
    assert booking.alternatives(client, at(MONDAY, 10), now) == [
        at(MONDAY, 9), at(MONDAY, 12), at(MONDAY, 13)]
    assert _book(client, at(MONDAY, 12), now).starts_at == at(MONDAY, 12)
    # Moving the earlier appointment next to itself is not crowding it.
    earlier = db.session.scalar(sa.select(Appointment).where(Appointment.confirmation_code
                                                             == "EARLY1"))
    moved = booking.book_slot(client, call_sid=None, name="Earlier", phone="+13125550777",
                              starts_at=at(MONDAY, 11), language="en", now=now,
                              replacing=earlier)
    assert moved.starts_at == at(MONDAY, 11)
    db.session.commit()


def test_max_per_slot_fills_each_place_once_then_refuses(app_context):
    make_client(app_context, max_per_slot=2)
    client, now, ten = _client(), at(MONDAY, 6), at(MONDAY, 10)
    first, second = _book(client, ten, now, "A"), _book(client, ten, now, "B")
    assert {first.seat, second.seat} == {1, 2}
    assert booking.check_time(client, "monday at 10 am", "en", now).slot is None
    with pytest.raises(booking.SlotTaken):
        _book(client, ten, now, "C")
    first.status = "cancelled"  # a cancelled booking frees its place
    assert _book(client, ten, now, "C").seat == first.seat
    db.session.commit()


def test_with_two_places_two_callers_book_the_same_time_at_once_and_a_third_is_refused(app):
    make_client(app, max_per_slot=2)
    start = _tomorrow_at(11)
    barrier = threading.Barrier(3)
    outcomes: list[str] = []

    def confirm(call_sid: str) -> None:
        with app.app_context():
            client = db.session.scalar(sa.select(Client))
            barrier.wait()
            try:
                _book(client, start, utcnow(), name=call_sid, call_sid=call_sid)
                db.session.commit()
                outcomes.append("booked")
            except booking.SlotTaken:
                db.session.rollback()
                outcomes.append("taken")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=confirm, args=(f"CA{n:032d}",)) for n in (1, 2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["booked", "booked", "taken"]
    with app.app_context():
        seats = sorted(db.session.scalars(sa.select(Appointment.seat)))
        assert seats == [1, 2]


def test_two_callers_booking_overlapping_times_at_once_get_one_booking(app):
    # Two spans back to back: 9:00 (its buffer runs to 10:00) and 9:45 both start slots, but
    # whichever is booked first leaves no room for the other.
    hours = {day: [["09:00", "09:45"], ["09:45", "12:00"]]
             for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    make_client(app, buffer_minutes=30, business_hours=hours)
    starts = [_tomorrow_at(9), _tomorrow_at(9, 45)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def confirm(start: datetime) -> None:
        with app.app_context():
            client = db.session.scalar(sa.select(Client))
            barrier.wait()
            try:
                _book(client, start, utcnow(), name=start.isoformat())
                db.session.commit()
                outcomes.append("booked")
            except booking.SlotTaken:
                db.session.rollback()
                outcomes.append("taken")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=confirm, args=(start,)) for start in starts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["booked", "taken"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Appointment)) == 1


def test_the_database_refuses_two_appointments_in_one_place(app_context):
    make_client(app_context, max_per_slot=2)
    client, start = _client(), _tomorrow_at(10)
    for code, seat in (("SEAT1A", 1), ("SEAT2A", 2), ("SEAT1B", 1)):
        db.session.add(Appointment(client_id=client.id, customer_name=code,
                                   customer_phone="+13125550101", starts_at=start,
                                   ends_at=start + timedelta(minutes=30), seat=seat,
                                   confirmation_code=code))
    # PostgreSQL names the index; SQLite its columns.
    with pytest.raises(sa.exc.IntegrityError, match="uq_appointments_client_slot_seat|"
                       "appointments.client_id, appointments.starts_at, appointments.seat"):
        db.session.commit()
    db.session.rollback()


def test_a_caller_is_never_offered_a_time_inside_the_notice(app, sandbox, number):  # noqa: F811
    notice = timedelta(days=3)
    make_client(app, ringlypro_number=number, min_notice_minutes=int(notice.total_seconds()) // 60)
    before = utcnow()
    call = place_call(sandbox, [{"digits": "1"}, {"digits": "1"}, {"speech": "Maria Lopez"},
                                {"digits": "1"}, {"speech": "tomorrow at 10 am"},
                                {"digits": "1"}, {"digits": "1"}])
    heard = " | ".join(call["heard"])
    assert "not available" in heard and "The nearest free times are" in heard
    assert "You're booked for" in heard
    with app.app_context():
        [appointment] = db.session.scalars(sa.select(Appointment))
        # The first time offered (they are read soonest first) keeps the three days' notice.
        assert appointment.starts_at >= before + notice
        assert appointment.customer_phone == CALLER
        db.session.remove()
