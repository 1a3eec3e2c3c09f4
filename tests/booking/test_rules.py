"""Each booking rule changes what slots are offered: notice, horizon, closed dates, buffer and
places per slot, as pure functions of a client's settings (no database)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from ringly.booking.slots import (
    Bookings,
    Unbookable,
    bookable,
    day_slots,
    horizon_end,
    nearest_free,
    slots_between,
    zone,
)

pytestmark = pytest.mark.smoke

TZ = zone("America/Chicago")
MONDAY = date(2026, 12, 7)
WEEKDAYS_9_TO_5 = {**{day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
                   "sat": [], "sun": []}


def business(**rules: Any) -> SimpleNamespace:
    return SimpleNamespace(**{"timezone": "America/Chicago", "business_hours": WEEKDAYS_9_TO_5,
                              "slot_minutes": 30, **rules})


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def hhmm(slots: list[datetime]) -> list[str]:
    return [slot.strftime("%a %d %H:%M") for slot in slots]


def test_a_slot_inside_the_minimum_notice_is_never_offered():
    now = at(MONDAY, 8, 50)
    client = business(min_notice_minutes=120)
    assert not bookable(client, at(MONDAY, 10, 30), now)  # 100 minutes away
    assert bookable(client, at(MONDAY, 11), now)
    # Asked for 9:30, the nearest times that keep two hours' notice.
    assert hhmm(nearest_free(client, at(MONDAY, 9, 30), set(), now)) == [
        "Mon 07 11:00", "Mon 07 11:30", "Mon 07 12:00"]
    # No notice at all: still never a time already begun or past.
    no_notice = business(min_notice_minutes=0)
    assert not bookable(no_notice, at(MONDAY, 8, 30), now)
    assert bookable(no_notice, at(MONDAY, 9), now)


def test_the_default_notice_is_an_hour():
    now = at(MONDAY, 9, 1)
    assert not bookable(business(), at(MONDAY, 10), now)
    assert bookable(business(), at(MONDAY, 10, 30), now)


def test_no_slot_is_offered_past_the_horizon():
    now = at(MONDAY, 8)
    client = business(horizon_days=2)  # today, Tuesday and Wednesday
    assert horizon_end(client, now) == at(MONDAY + timedelta(days=3), 0)
    assert bookable(client, at(MONDAY + timedelta(days=2), 16, 30), now)
    assert not bookable(client, at(MONDAY + timedelta(days=3), 9), now)
    # Asked for Friday: the last times that can be booked, not nothing.
    assert hhmm(nearest_free(client, at(MONDAY + timedelta(days=4), 10), set(), now)) == [
        "Wed 09 15:30", "Wed 09 16:00", "Wed 09 16:30"]


def test_closed_date_ranges_have_no_slots():
    client = business(closed_dates=[{"from": "2026-12-24", "to": "2026-12-25"},
                                    {"from": "2026-12-28", "to": "2026-12-28"}])
    for day in (24, 25, 28):
        assert list(day_slots(client, date(2026, 12, day))) == []
    assert len(list(day_slots(client, date(2026, 12, 23)))) == 16
    assert len(list(day_slots(client, date(2026, 12, 29)))) == 16
    now = at(date(2026, 12, 23), 8)
    got = nearest_free(client, at(date(2026, 12, 24), 10), set(), now, count=20)
    assert {slot.day for slot in got} == {23, 29}  # the 26th and 27th are a weekend
    assert not bookable(client, at(date(2026, 12, 25), 10), now)


def test_a_buffer_keeps_a_gap_after_each_slot():
    client = business(slot_minutes=45, buffer_minutes=15, business_hours={
        **WEEKDAYS_9_TO_5, "mon": [["09:00", "12:00"]]})
    starts = [slot.strftime("%H:%M") for slot in day_slots(client, MONDAY)]
    # Each 45-minute slot then 15 minutes free; the last slot fits before noon, its gap need not.
    assert starts == ["09:00", "10:00", "11:00"]
    tight = business(slot_minutes=50, buffer_minutes=10, business_hours={
        **WEEKDAYS_9_TO_5, "mon": [["09:00", "11:50"]]})
    assert [slot.strftime("%H:%M") for slot in day_slots(tight, MONDAY)] == ["09:00", "10:00",
                                                                              "11:00"]


def test_a_buffer_refuses_a_slot_too_close_to_an_appointment_off_the_grid():
    # Booked at 09:50-10:20 when the hours were different; a 15-minute buffer follows it.
    client = business(buffer_minutes=15)
    bookings = Bookings(client, [(at(MONDAY, 9, 50), at(MONDAY, 10, 20))])
    assert bookings.overlaps(at(MONDAY, 10, 30))  # its buffer runs to 10:35
    assert bookings.overlaps(at(MONDAY, 9, 30))  # 9:30-10:00 plus 15 minutes reaches 9:50
    assert not bookings.overlaps(at(MONDAY, 8, 50))  # ends 9:20, buffer to 9:35
    assert not bookings.overlaps(at(MONDAY, 10, 35))
    none = Bookings(business(), [(at(MONDAY, 9, 50), at(MONDAY, 10, 20))])
    assert none.overlaps(at(MONDAY, 10)) and not none.overlaps(at(MONDAY, 10, 20))


def test_max_per_slot_lets_that_many_share_a_start_time():
    ten = at(MONDAY, 10)
    booked = [(ten, ten + timedelta(minutes=30))] * 2
    assert not Bookings(business(max_per_slot=3), booked).full(ten)
    assert Bookings(business(max_per_slot=2), booked).full(ten)
    assert Bookings(business(), booked[:1]).full(ten)
    # Sharing a start is not an overlap; the next slot is free.
    assert not Bookings(business(max_per_slot=3), booked).full(ten + timedelta(minutes=30))


def test_unbookable_reads_only_the_days_it_is_asked_about():
    now = at(MONDAY, 8, 40)
    asked: list[tuple[datetime, datetime]] = []
    ten = at(MONDAY, 10)

    def load(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        asked.append((start, end))
        return [(ten, ten + timedelta(minutes=30))] if start <= ten < end else []

    unbookable = Unbookable(business(), now, load)
    assert ten in unbookable  # booked
    assert at(MONDAY, 9, 30) in unbookable  # inside the hour's notice
    assert at(MONDAY, 10, 30) not in unbookable
    assert at(MONDAY, 18) in unbookable  # closed
    assert MONDAY + timedelta(days=91) not in unbookable  # not a datetime at all
    assert all(end - start <= timedelta(days=16) for start, end in asked)
    assert len(asked) <= 3
    # The windows read cover every start either side of the one asked about.
    slots = list(slots_between(business(), now, now + timedelta(days=5)))
    free = [slot for slot in slots if slot not in unbookable]
    assert ten not in free and len(free) == len(slots) - 3  # 9:00, 9:30 (notice), 10:00
