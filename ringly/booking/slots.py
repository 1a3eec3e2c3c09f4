"""Slots: a client's opening hours per weekday, slot length and time zone, as pure functions."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from ringly.clients.models import WEEKDAYS, Client

HORIZON_DAYS = 60


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def client_zone(client: Client) -> ZoneInfo:
    return zone(client.timezone or "America/New_York")


def to_local(client: Client, moment: datetime) -> datetime:
    return moment.astimezone(client_zone(client))


def _hhmm(value: str) -> time:
    hour, minute = (int(part) for part in value.split(":"))
    return time(23, 59) if hour >= 24 else time(hour, minute)


def opening_spans(client: Client, day: date) -> list[tuple[datetime, datetime]]:
    """The day's opening spans as aware local datetimes (a closed day has none)."""
    tz = client_zone(client)
    spans = (client.business_hours or {}).get(WEEKDAYS[day.weekday()]) or []
    return [
        (datetime.combine(day, _hhmm(open_), tz), datetime.combine(day, _hhmm(close), tz))
        for open_, close in spans
    ]


def day_slots(client: Client, day: date) -> Iterator[datetime]:
    """Slot starts of one local day, in order: every slot fits wholly inside a span."""
    length = timedelta(minutes=client.slot_minutes or 30)
    for opens, closes in opening_spans(client, day):
        start = opens
        while start + length <= closes:
            yield start
            start += length


def is_slot(client: Client, moment: datetime) -> bool:
    local = to_local(client, moment)
    return any(start == local for start in day_slots(client, local.date()))


def slots_between(client: Client, start: datetime, end: datetime) -> Iterator[datetime]:
    """Slot starts in [start, end), in order."""
    day = to_local(client, start).date()
    last = to_local(client, end).date()
    while day <= last:
        for slot in day_slots(client, day):
            if start <= slot < end:
                yield slot
        day += timedelta(days=1)


def nearest_free(
    client: Client, around: datetime, taken: Iterable[datetime], now: datetime, count: int = 3,
) -> list[datetime]:
    """The `count` free future slots closest to `around` (before or after), soonest first."""
    busy = {moment.astimezone(around.tzinfo) for moment in taken}
    earliest = max(now, around - timedelta(days=7))
    window = slots_between(client, earliest, around + timedelta(days=HORIZON_DAYS))
    free = [slot for slot in window if slot > now and slot not in busy]
    free.sort(key=lambda slot: (abs((slot - around).total_seconds()), slot))
    return sorted(free[:count])
