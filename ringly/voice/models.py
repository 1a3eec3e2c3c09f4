"""Calls (one row per CallSid: the conversation's state and final status) and rendered audio."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ringly.db import ADDRESS_LENGTH, Timestamped, UTCDateTime, db

# Twilio's final call statuses: a status callback never moves a call out of these.
FINAL_STATUSES = ("completed", "busy", "failed", "no-answer", "canceled")
CALL_STATUSES = ("queued", "initiated", "ringing", "in-progress", *FINAL_STATUSES)
# A caller's call, or the signed request provisioning makes to check a new number's voice URL
# (finished at once, and left out of the client's call list and usage unless asked for).
CALL_PURPOSES = ("caller", "verification")


class Call(Timestamped, db.Model):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(sa.String(34), unique=True)
    client_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("clients.id", ondelete="SET NULL"), index=True
    )
    # A phone number, or a SIP URI or client name for calls that do not come from a phone.
    from_number: Mapped[str | None] = mapped_column(sa.String(ADDRESS_LENGTH), index=True)
    to_number: Mapped[str | None] = mapped_column(sa.String(ADDRESS_LENGTH))
    direction: Mapped[str | None] = mapped_column(sa.String(16))
    status: Mapped[str | None] = mapped_column(sa.String(16))
    purpose: Mapped[str] = mapped_column(sa.String(12), default="caller", server_default="caller")
    language: Mapped[str | None] = mapped_column(sa.String(2))
    # Where the caller is in the flow and what they have told us; never taken from the URL.
    step: Mapped[str | None] = mapped_column(sa.String(64))
    state: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    retries: Mapped[int] = mapped_column(default=0, server_default="0")
    # Twilio's SequenceNumber of the last status callback applied, so a replay changes nothing.
    last_sequence: Mapped[int | None] = mapped_column()
    duration_seconds: Mapped[int | None] = mapped_column()
    price: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 4))
    price_unit: Mapped[str | None] = mapped_column(sa.String(3))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client = relationship("Client")

    __table_args__ = (
        sa.CheckConstraint("purpose IN ('caller', 'verification')", name="purpose"),
    )


class AudioClip(db.Model):
    """A rendered line's audio, in the database so every web host can serve what any worker
    rendered (AUDIO_STORE=database); keyed by the line's hash (see ringly.voice.tts)."""

    __tablename__ = "audio_clips"

    hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    locale: Mapped[str] = mapped_column(sa.String(8))
    # The column is "bytes"; the attribute is not, so it does not hide the built-in type.
    audio: Mapped[bytes] = mapped_column("bytes", sa.LargeBinary)
    size: Mapped[int] = mapped_column()
    # Web processes learn of new clips by asking for those created since they last looked.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_played_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
