"""Slots: a client's hours, time zone and booking rules (length, buffer, notice, horizon, closed
dates, places per slot) as pure functions; the database is read only through a loader given in."""
from __future__ import annotations

from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from ringly.clients.models import DEFAULT_BOOKING_RULES, WEEKDAYS, Client

# How far past the time asked about nearest_free looks (never past the client's horizon).
SEARCH_DAYS = 60
# Longer than any appointment plus its buffer (slot_minutes ≤ 480, buffer_minutes ≤ 240): how
# far either side of a start another appointment can be and still overlap it.
REACH = timedelta(days=1)


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def client_zone(client: Client) -> ZoneInfo:
    return zone(client.timezone or "America/New_York")


def to_local(client: Client, moment: datetime) -> datetime:
    return moment.astimezone(client_zone(client))


@dataclass(frozen=True)
class Rules:
    """A client's booking rules, read once per use."""

    slot: timedelta
    buffer: timedelta
    notice: timedelta
    horizon_days: int
    max_per_slot: int
    closed: tuple[tuple[date, date], ...]

    def closed_on(self, day: date) -> bool:
        return any(first <= day <= last for first, last in self.closed)


def rules(client: Client | Any) -> Rules:
    """The client's rules. A client-like object without a rule (the plain namespaces pure tests
    pass) has the column's default, so every caller sees the same defaults as a new client."""
    def value(name: str) -> int:
        found = getattr(client, name, None)
        return DEFAULT_BOOKING_RULES[name] if found is None else found

    spans = getattr(client, "closed_dates", None) or ()
    return Rules(
        slot=timedelta(minutes=value("slot_minutes")),
        buffer=timedelta(minutes=value("buffer_minutes")),
        notice=timedelta(minutes=value("min_notice_minutes")),
        horizon_days=value("horizon_days"), max_per_slot=value("max_per_slot"),
        closed=_closed(tuple((span["from"], span["to"]) for span in spans)),
    )


@lru_cache(maxsize=1024)
def _closed(spans: tuple[tuple[str, str], ...]) -> tuple[tuple[date, date], ...]:
    # Read for every slot looked at: parse each client's list once.
    return tuple((date.fromisoformat(first), date.fromisoformat(last)) for first, last in spans)


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


def day_slots(client: Client, day: date, rule: Rules | None = None) -> Iterator[datetime]:
    """Slot starts of one local day, in order: every slot fits wholly inside a span, and the
    next starts `buffer_minutes` after it ends. None on a closed date. (`rule`: the client's
    rules when the caller has them already.)"""
    rule = rule or rules(client)
    if rule.closed_on(day):
        return
    for opens, closes in opening_spans(client, day):
        start = opens
        while start + rule.slot <= closes:
            yield start
            start += rule.slot + rule.buffer


def is_slot(client: Client, moment: datetime) -> bool:
    """A start on the client's grid (hours, length, buffer, closed dates); see `bookable` for
    notice and horizon, `Unbookable` for what is already booked."""
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


def earliest_start(client: Client, now: datetime) -> datetime:
    """No slot starting sooner than `min_notice_minutes` from now is offered or booked."""
    return now + rules(client).notice


def horizon_end(client: Client, now: datetime) -> datetime:
    """The end of the last bookable local day: `horizon_days` after today (today is day 0)."""
    today = to_local(client, now).date()
    return datetime.combine(today + timedelta(days=rules(client).horizon_days + 1), time(0),
                            client_zone(client))


def within_notice_and_horizon(client: Client, moment: datetime, now: datetime) -> bool:
    return moment > now and earliest_start(client, now) <= moment < horizon_end(client, now)


def bookable(client: Client, moment: datetime, now: datetime) -> bool:
    """A slot the rules allow at `now`, whatever is already booked."""
    return within_notice_and_horizon(client, moment, now) and is_slot(client, moment)


class Bookings:
    """Holding appointments (start, end) of one client, and the slot starts they leave no room
    at: a start whose `max_per_slot` places are all held, or one whose slot (with the buffer
    after it) would overlap another appointment (with its buffer)."""

    def __init__(self, client: Client, booked: Iterable[tuple[datetime, datetime]] = ()) -> None:
        rule = rules(client)
        self._slot, self._buffer, self._places = rule.slot, rule.buffer, rule.max_per_slot
        self._per_start: Counter[datetime] = Counter()
        self._starts: list[datetime] = []
        self._blocks: list[tuple[datetime, datetime]] = []  # (start, end + buffer), by start
        self.add(booked)

    def add(self, booked: Iterable[tuple[datetime, datetime]]) -> None:
        for start, end in booked:
            self._per_start[start] += 1
            # Both lists sorted by start, so the i-th of each has the same start.
            insort(self._starts, start)
            insort(self._blocks, (start, end + self._buffer))

    def places_held(self, start: datetime) -> int:
        return self._per_start[start]

    def overlaps(self, start: datetime) -> bool:
        """Another appointment, starting at another time, within this slot or its buffer, or
        whose own buffer has not ended when this slot starts."""
        end = start + self._slot + self._buffer
        low = bisect_left(self._starts, start - REACH)
        high = bisect_left(self._starts, end)
        return any(other != start and blocked_until > start
                   for other, blocked_until in self._blocks[low:high])

    def full(self, start: datetime) -> bool:
        return self.places_held(start) >= self._places or self.overlaps(start)


class Unbookable(Container[datetime]):
    """The slot starts a caller cannot have at `now`: off the grid, on a closed date, inside the
    notice, past the horizon, or full. It reads like the set of taken starts that
    `understanding.resolve` and `nearest_free` skip (`start in unbookable`). Appointments are
    loaded lazily, `load(start, end)` giving the holding (start, end) pairs starting in
    [start, end), a chunk of days at a time, so a question about one week reads that week only.
    """

    CHUNK = timedelta(days=16)

    def __init__(self, client: Client, now: datetime,
                 load: Callable[[datetime, datetime], Iterable[tuple[datetime, datetime]]]) -> None:
        self.client, self.now, self._load = client, now, load
        # Asked about slot after slot: the rules, the window and each day's grid are read once.
        self._rules = rules(client)
        self._earliest, self._until = earliest_start(client, now), horizon_end(client, now)
        self._grid: dict[date, frozenset[datetime]] = {}
        self._bookings = Bookings(client)
        self._loaded: set[int] = set()
        self._epoch = datetime(2000, 1, 1, tzinfo=now.tzinfo)

    def __contains__(self, start: object) -> bool:
        if not isinstance(start, datetime):
            return False
        if not (start > self.now and self._earliest <= start < self._until):
            return True
        local = to_local(self.client, start)
        day = local.date()
        if day not in self._grid:
            self._grid[day] = frozenset(day_slots(self.client, day, self._rules))
        return local not in self._grid[day] or self.full(start)

    def full(self, start: datetime) -> bool:
        for index in range(self._chunk(start - REACH), self._chunk(start + REACH) + 1):
            self._read(index)
        return self._bookings.full(start)

    def _chunk(self, moment: datetime) -> int:
        return (moment - self._epoch) // self.CHUNK

    def _read(self, index: int) -> None:
        if index not in self._loaded:
            self._loaded.add(index)
            begins = self._epoch + index * self.CHUNK
            self._bookings.add(self._load(begins, begins + self.CHUNK))


def nearest_free(
    client: Client, around: datetime, taken: Container[datetime], now: datetime, count: int = 3,
) -> list[datetime]:
    """The `count` free slots closest to `around` (before or after) that the rules allow at
    `now`, soonest first. `taken`: the starts to skip (a set, or an `Unbookable`)."""
    first, last = earliest_start(client, now), horizon_end(client, now)
    centre = min(around, last)  # asked past the horizon: the last days that can be booked
    window = slots_between(client, max(first, centre - timedelta(days=7)),
                           min(last, centre + timedelta(days=SEARCH_DAYS)))
    free = [slot for slot in window if slot > now and slot not in taken]
    free.sort(key=lambda slot: (abs((slot - around).total_seconds()), slot))
    return sorted(free[:count])
