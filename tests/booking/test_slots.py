"""Slots follow each client's own time zone, hours per weekday and slot length."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from ringly.booking.slots import day_slots, is_slot, nearest_free, opening_spans

pytestmark = pytest.mark.smoke

MADRID = SimpleNamespace(
    timezone="Europe/Madrid", slot_minutes=45,
    business_hours={"mon": [["09:00", "13:00"], ["16:00", "18:00"]], "tue": [], "wed": [],
                    "thu": [], "fri": [], "sat": [["10:00", "11:30"]], "sun": []})


def test_slots_fit_wholly_inside_each_span_of_the_day():
    monday = date(2026, 12, 7)
    starts = [slot.strftime("%H:%M") for slot in day_slots(MADRID, monday)]
    # 45-minute slots: 12:45 would end after 13:00, 17:30 after 18:00.
    assert starts == ["09:00", "09:45", "10:30", "11:15", "12:00", "16:00", "16:45"]
    assert all(slot.tzinfo == ZoneInfo("Europe/Madrid") for slot in day_slots(MADRID, monday))
    assert list(day_slots(MADRID, date(2026, 12, 8))) == []  # closed on Tuesdays
    assert [s.strftime("%H:%M") for s in day_slots(MADRID, date(2026, 12, 12))] == ["10:00",
                                                                                    "10:45"]


def test_a_slot_is_the_same_instant_in_any_zone():
    nine_madrid = datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("Europe/Madrid"))
    assert is_slot(MADRID, nine_madrid.astimezone(ZoneInfo("UTC")))
    assert not is_slot(MADRID, nine_madrid + timedelta(minutes=30))
    assert opening_spans(MADRID, date(2026, 12, 7))[1][0].hour == 16


def test_nearest_free_crosses_closed_days_in_the_clients_zone():
    tz = ZoneInfo("Europe/Madrid")
    asked = datetime(2026, 12, 8, 10, 0, tzinfo=tz)  # a closed Tuesday
    now = datetime(2026, 12, 7, 8, 0, tzinfo=tz)
    got = nearest_free(MADRID, asked, set(), now)
    # Monday afternoon is 17-22 hours away, Saturday four days: the three closest, in order.
    assert [slot.strftime("%a %H:%M") for slot in got] == ["Mon 12:00", "Mon 16:00",
                                                           "Mon 16:45"]
    later = nearest_free(MADRID, asked, set(), datetime(2026, 12, 8, 8, 0, tzinfo=tz))
    assert [slot.strftime("%a %d %H:%M") for slot in later][0] == "Sat 12 10:00"
