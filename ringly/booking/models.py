"""Appointments booked by callers, one per client and start time."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ringly.db import Timestamped, UTCDateTime, db

APPOINTMENT_STATUSES = ("booked", "confirmed", "cancelled")
HOLDING_STATUSES = ("booked", "confirmed")


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

    client = relationship("Client")

    __table_args__ = (
        sa.CheckConstraint("status IN ('booked', 'confirmed', 'cancelled')", name="status"),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        # The database, not the code, makes a double booking impossible.
        sa.Index(
            "uq_appointments_client_slot",
            "client_id",
            "starts_at",
            unique=True,
            postgresql_where=sa.text("status <> 'cancelled'"),
            sqlite_where=sa.text("status <> 'cancelled'"),
        ),
        sa.Index("ix_appointments_client_starts", "client_id", "starts_at"),
    )
