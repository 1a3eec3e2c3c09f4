"""The business that Ringly answers the phone for."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Mapped, mapped_column

from ringly.db import Timestamped, db

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Where a client's time zone came from: asked for (provision request or PATCH; never changed
# by Ringly), its number's area code or rate center, or DEFAULT_TIMEZONE (no number yet, a
# toll-free number, or a number that says nothing about where the business is).
TIMEZONE_SOURCES = ("explicit", "number", "default")
FALLBACK_TIMEZONE = "America/New_York"

# Opening hours per weekday as lists of [open, close] in local "HH:MM"; an empty list is closed.
DEFAULT_BUSINESS_HOURS: dict[str, list[list[str]]] = {
    **{day: [["09:00", "17:00"]] for day in WEEKDAYS[:5]},
    "sat": [],
    "sun": [],
}


# Booking rules: each setting's (lowest, highest), stated in the API's document and enforced there
# and by the table's CHECK constraints alike.
BOOKING_RULE_BOUNDS: dict[str, tuple[int, int]] = {
    "slot_minutes": (5, 480),
    "buffer_minutes": (0, 240),
    "min_notice_minutes": (0, 43200),  # up to 30 days
    "horizon_days": (1, 730),
    "max_per_slot": (1, 50),
}
DEFAULT_BOOKING_RULES: dict[str, int] = {
    "slot_minutes": 30, "buffer_minutes": 0, "min_notice_minutes": 60, "horizon_days": 90,
    "max_per_slot": 1,
}
MAX_CLOSED_RANGES = 100


def _booking_rule(name: str) -> Mapped[int]:
    """A booking rule's column: existing rows get the default too (server_default)."""
    return mapped_column(default=DEFAULT_BOOKING_RULES[name],
                         server_default=str(DEFAULT_BOOKING_RULES[name]))


def default_timezone() -> str:
    """DEFAULT_TIMEZONE: the zone of a client whose zone nobody chose and no number gives."""
    return (current_app.config.get("DEFAULT_TIMEZONE") or FALLBACK_TIMEZONE
            if has_app_context() else FALLBACK_TIMEZONE)


def default_business_hours() -> dict[str, list[list[str]]]:
    return {day: [list(span) for span in spans] for day, spans in DEFAULT_BUSINESS_HOURS.items()}


class Client(Timestamped, db.Model):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_name: Mapped[str] = mapped_column(sa.String(255))
    email: Mapped[str] = mapped_column(sa.String(254))
    user_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    # The number Ringly bought for the client, E.164; unique where set (NULLs never clash).
    ringlypro_number: Mapped[str | None] = mapped_column(sa.String(16), unique=True)
    twilio_number_sid: Mapped[str | None] = mapped_column(sa.String(34), unique=True)
    custom_greeting: Mapped[str | None] = mapped_column(sa.Text)
    rachel_enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    country: Mapped[str] = mapped_column(sa.String(2), default="US", server_default="US")
    timezone: Mapped[str] = mapped_column(
        sa.String(64), default=default_timezone, server_default="America/New_York"
    )
    timezone_source: Mapped[str] = mapped_column(sa.String(8), default="default",
                                                 server_default="default")
    business_hours: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=default_business_hours)
    # Booking rules (ringly/booking/slots.py applies them; defaults and bounds above).
    slot_minutes: Mapped[int] = _booking_rule("slot_minutes")
    buffer_minutes: Mapped[int] = _booking_rule("buffer_minutes")
    min_notice_minutes: Mapped[int] = _booking_rule("min_notice_minutes")
    horizon_days: Mapped[int] = _booking_rule("horizon_days")
    max_per_slot: Mapped[int] = _booking_rule("max_per_slot")
    # Local dates no slot is offered on: [{"from": "2026-12-24", "to": "2026-12-26"}, ...],
    # ISO dates, both ends included, at most MAX_CLOSED_RANGES ranges.
    closed_dates: Mapped[list[dict[str, str]]] = mapped_column(
        sa.JSON, default=list, server_default="[]")
    default_language: Mapped[str] = mapped_column(sa.String(2), default="en", server_default="en")
    forwarding_number: Mapped[str | None] = mapped_column(sa.String(16))

    __table_args__ = (
        *(sa.CheckConstraint(f"{name} BETWEEN {low} AND {high}", name=f"{name}_range")
          for name, (low, high) in BOOKING_RULE_BOUNDS.items()),
        sa.CheckConstraint("default_language IN ('en', 'es')", name="default_language"),
        sa.CheckConstraint("timezone_source IN ('explicit', 'number', 'default')",
                           name="timezone_source"),
    )

    def __repr__(self) -> str:
        return f"<Client {self.id} {self.business_name!r}>"
