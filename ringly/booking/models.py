"""Appointments booked by callers: per client and start time, one per seat (max_per_slot)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ringly.clients.models import BOOKING_RULE_BOUNDS
from ringly.db import Timestamped, UTCDateTime, db

APPOINTMENT_STATUSES = ("booked", "confirmed", "cancelled")
HOLDING_STATUSES = ("booked", "confirmed")
# The most appointments one start time can hold for any client (max_per_slot's upper bound).
MAX_SEATS = BOOKING_RULE_BOUNDS["max_per_slot"][1]


class Appointment(Timestamped, db.Model):
    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id", ondelete="CASCADE"))
    call_sid: Mapped[str | None] = mapped_column(sa.String(34), index=True)
    customer_name: Mapped[str] = mapped_column(sa.String(255))
    customer_phone: Mapped[str] = mapped_column(sa.String(16), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(sa.String(16), default="booked")
    confirmation_code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    language: Mapped[str] = mapped_column(sa.String(2), default="en")
    source: Mapped[str] = mapped_column(sa.String(16), default="voice")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Which of the start time's max_per_slot places this is (1 when a slot holds one).
    seat: Mapped[int] = mapped_column(default=1, server_default="1")

    client = relationship("Client")

    __table_args__ = (
        sa.CheckConstraint("status IN ('booked', 'confirmed', 'cancelled')", name="status"),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint(f"seat BETWEEN 1 AND {MAX_SEATS}", name="seat_range"),
        # The database, not the code, makes a double booking impossible: one holding appointment
        # per seat of a start time (book_slot only hands out seats 1..max_per_slot).
        sa.Index(
            "uq_appointments_client_slot_seat",
            "client_id",
            "starts_at",
            "seat",
            unique=True,
            postgresql_where=sa.text("status <> 'cancelled'"),
            sqlite_where=sa.text("status <> 'cancelled'"),
        ),
        sa.Index("ix_appointments_client_starts", "client_id", "starts_at"),
    )
