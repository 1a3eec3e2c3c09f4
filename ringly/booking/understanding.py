"""What day and time a caller said, in English or Spanish, with Duckling (chosen by measurement).

`understand` only reads the words (after `rewrites.rewrite` has put what Duckling misreads into
words it reads right); `resolve` picks the slot using the client's hours, so "at 2:30" lands on
2:30 PM for a business open in the afternoon and "in the morning" becomes a window.
"""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ringly.booking.rewrites import rewrite
from ringly.booking.slots import is_slot, opening_spans, slots_between, to_local
from ringly.clients.models import Client

ZONEINFO = "/usr/share/zoneinfo"
_LANG = {"en": "EN", "es": "ES"}
_lock = threading.Lock()


@dataclass(frozen=True)
class Understood:
    """Exact moments the words may mean (best first), or a window to pick the first slot in."""

    candidates: tuple[datetime, ...] = ()
    window: tuple[datetime, datetime] | None = None


_loaded: tuple[Any, Any, dict[str, Any]] | None = None
_init_lock = threading.Lock()
_warming_pid = 0


def _duckling() -> tuple[Any, Any, dict[str, Any]]:
    global _loaded
    if _loaded is None:
        with _init_lock:
            if _loaded is None:
                import duckling  # a native library: loaded on first use, once per process

                time_zones = duckling.load_time_zones(ZONEINFO)
                langs = {code: duckling.default_locale_lang(duckling.parse_lang(lang))
                         for code, lang in _LANG.items()}
                _loaded = (duckling, time_zones, langs)
    return _loaded


def warm_up_in_background() -> None:
    """Load Duckling in this process without making anyone wait (called when a call starts,
    several turns before the date question). Never at import: the native runtime must not be
    started before a fork (gunicorn --preload, Celery prefork)."""
    global _warming_pid
    if _warming_pid != os.getpid():
        _warming_pid = os.getpid()
        threading.Thread(target=_duckling, name="duckling-warm-up", daemon=True).start()


def understand(text: str, locale: str, now: datetime, tz_name: str) -> Understood | None:
    """The times in `text`, relative to `now` in the zone `tz_name`; None when there are none."""
    return read_with_duckling(rewrite(text, locale, now), locale, now, tz_name)


def read_with_duckling(text: str, locale: str, now: datetime, tz_name: str) -> Understood | None:
    """What Duckling alone reads in `text` (no rewrites): `understand` without its help."""
    duckling, time_zones, langs = _duckling()
    with _lock:
        ref = duckling.parse_ref_time(time_zones, tz_name, int(now.timestamp()))
        context = duckling.Context(ref, langs.get(locale, langs["en"]))
        found = duckling.parse(text, context, duckling.parse_dimensions(["time"]), False)
    if isinstance(found, str):
        found = json.loads(found)
    entities = [item for item in found if item.get("dim") == "time" and not item.get("latent")]
    if not entities:
        return None
    # The longest reading wins; on a tie ("mañana por la mañana": this morning, or tomorrow
    # morning?) the later one, since the caller used both words to say the later day.
    best = max(entities, key=lambda item: (item["end"] - item["start"], _first_start(item)))
    return _from_value(best["value"], now.tzinfo)


def _first_start(entity: dict[str, Any]) -> str:
    value = entity["value"]
    first = (value.get("values") or [value])[0]
    return first.get("value") or first.get("from", {}).get("value") or ""


def _from_value(value: dict[str, Any], tz: Any) -> Understood | None:
    values = value.get("values") or [value]
    first = values[0]
    if first.get("type") == "interval":
        start = first.get("from", {}).get("value")
        end = first.get("to", {}).get("value")
        if not start and not end:
            return None
        start_at = _parse(start, tz) if start else _parse(end, tz) - timedelta(hours=4)
        end_at = _parse(end, tz) if end else start_at + timedelta(hours=12)
        return Understood(window=(start_at, end_at))
    grain = first.get("grain")
    if grain in ("hour", "minute", "second"):
        candidates = tuple(_parse(item["value"], tz) for item in values if "value" in item)
        return Understood(candidates=candidates)
    span = {"day": timedelta(days=1), "week": timedelta(days=7)}.get(grain)
    if span is None:
        return None  # a month or a year is too vague to book: ask again
    start_at = _parse(first["value"], tz)
    return Understood(window=(start_at, start_at + span))


def _parse(raw: str, tz: Any) -> datetime:
    return datetime.fromisoformat(raw).astimezone(tz)


@dataclass(frozen=True)
class Resolution:
    """The slot the caller meant if it is bookable; else what they asked for (to offer nearby).

    `asked` at or before `now` means the caller named a time that has already passed ("today
    at 9" at 10 o'clock): it is never booked, and the times offered are all still to come."""

    slot: datetime | None
    asked: datetime | None


def resolve(client: Client, understood: Understood, now: datetime,
            taken: Container[datetime]) -> Resolution:
    """Turn understood words into a bookable slot, using the client's hours and bookings
    (`taken`: the starts the caller cannot have, a set or booking.slots.Unbookable)."""
    if understood.window is not None:
        start, end = understood.window
        if end <= now:
            # "this morning" said in the afternoon: passed. Its first slot is what is said
            # to have passed ("today at 9 AM"), not the window's 4 AM start.
            return Resolution(None, next(slots_between(client, start, end), start))
        for slot in slots_between(client, max(start, now), end):
            if slot > now and slot not in taken:
                return Resolution(slot, None)
        return Resolution(None, max(start, now))
    future = [moment for moment in understood.candidates if moment > now]
    # Duckling lists both readings of an hour said without am/pm (2:30 and 14:30) and later
    # days too; keep the first day's readings and prefer one inside the opening hours, else
    # the next one inside them ("at 9" said at 10 AM: 9 PM is closed, so tomorrow at 9).
    # Only an hour said without a day moves to a later day: a day the caller named (a date,
    # a weekday, "en cuatro días") is the nearest such day even when it is closed, and its
    # next reading is a week, a month or a year later ("december 6 at 10", a Sunday, is not
    # December 6 next year): the caller hears that day is not available, and the times near it.
    same_day = [moment for moment in future if moment.date() == future[0].date()]
    later = future if _repeats_daily(understood.candidates) else same_day
    in_hours = ([moment for moment in same_day if _inside_hours(client, moment)]
                or [moment for moment in later if _inside_hours(client, moment)])
    past_today = [moment for moment in understood.candidates
                  if moment <= now and moment.date() == now.date()]
    if not in_hours and past_today:
        # "today at 9" at 10 o'clock: 9 PM is not what was meant (the business is closed
        # then); 9 AM was, and it has passed.
        past_in_hours = [moment for moment in past_today if _inside_hours(client, moment)]
        return Resolution(None, (past_in_hours or past_today)[0])
    if not future:
        return Resolution(None, None)
    asked = in_hours[0] if in_hours else _daytime(same_day)
    if is_slot(client, asked) and asked not in taken:
        return Resolution(asked, None)
    return Resolution(None, asked)


def _repeats_daily(candidates: tuple[datetime, ...]) -> bool:
    """Duckling's readings of an hour without a day come on consecutive days; those of a named
    day (a weekday, a date) a week, a month or a year apart."""
    days = sorted({moment.date() for moment in candidates})
    return len(days) > 1 and days[1] - days[0] == timedelta(days=1)


def _inside_hours(client: Client, moment: datetime) -> bool:
    local = to_local(client, moment)
    return any(opens <= local < closes for opens, closes in opening_spans(client, local.date()))


def _daytime(moments: list[datetime]) -> datetime:
    for moment in moments:
        if 8 <= moment.hour < 20:
            return moment
    return moments[0]
