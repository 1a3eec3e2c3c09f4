"""How the console writes times (in the client's own zone), money and durations."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app

SYMBOLS = {"USD": "$", "CAD": "CA$", "EUR": "€", "GBP": "£"}


def zone(name: str | None = None) -> ZoneInfo:
    """`name` (a client's zone), else DEFAULT_TIMEZONE: the zone the console reads times in."""
    return ZoneInfo(name or current_app.config.get("DEFAULT_TIMEZONE") or "America/New_York")


def local(moment: datetime | None, zone_name: str | None = None, *, with_zone: bool = True) -> str:
    """`Fri 4 Dec 2026, 10:00 CST`: a moment in the client's zone (or DEFAULT_TIMEZONE)."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    shown = moment.astimezone(zone(zone_name))
    text = f"{shown:%a} {shown.day} {shown:%b %Y, %H:%M}"
    return f"{text} {shown:%Z}" if with_zone else text


def iso_local(moment: datetime | None, zone_name: str | None = None) -> str:
    """The same moment as ISO 8601 with the zone's offset (for <time datetime>)."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone(zone_name)).isoformat(timespec="minutes")


def money(amount: Any, unit: str | None = "USD") -> str:
    """`$1.15`, `$0.0085` (small amounts keep their digits), `12.00 XYZ`."""
    if amount is None:
        return "—"
    value = Decimal(str(amount))
    places = Decimal("0.01") if value == 0 or abs(value) >= Decimal("0.10") else Decimal("0.0001")
    text = f"{value.quantize(places, rounding=ROUND_HALF_UP):,}"
    unit = (unit or "USD").upper()
    return f"{SYMBOLS[unit]}{text}" if unit in SYMBOLS else f"{text} {unit}"


def duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


FILTERS = {"local": local, "iso_local": iso_local, "money": money, "duration": duration}
