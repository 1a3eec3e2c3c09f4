"""The business that Ringly answers the phone for."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ringly.db import Timestamped, db

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Opening hours per weekday as lists of [open, close] in local "HH:MM"; an empty list is closed.
DEFAULT_BUSINESS_HOURS: dict[str, list[list[str]]] = {
    **{day: [["09:00", "17:00"]] for day in WEEKDAYS[:5]},
    "sat": [],
    "sun": [],
}


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
        sa.String(64), default="America/New_York", server_default="America/New_York"
    )
    business_hours: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=default_business_hours)
    slot_minutes: Mapped[int] = mapped_column(default=30, server_default="30")
    default_language: Mapped[str] = mapped_column(sa.String(2), default="en", server_default="en")
    forwarding_number: Mapped[str | None] = mapped_column(sa.String(16))

    __table_args__ = (
        sa.CheckConstraint("slot_minutes BETWEEN 5 AND 240", name="slot_minutes_range"),
        sa.CheckConstraint("default_language IN ('en', 'es')", name="default_language"),
    )

    def __repr__(self) -> str:
        return f"<Client {self.id} {self.business_name!r}>"
