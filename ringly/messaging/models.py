"""Messages: SMS in and out, and voicemails left on a call."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ringly.db import ADDRESS_LENGTH, Timestamped, UTCDateTime, db

CHANNELS = ("sms", "voicemail")
DIRECTIONS = ("inbound", "outbound")


class Message(Timestamped, db.Model):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Twilio's MessageSid or RecordingSid; unique so a replayed webhook stores nothing twice.
    sid: Mapped[str | None] = mapped_column(sa.String(34), unique=True)
    # Our own key for outbound messages ("confirmation:<appointment id>"): one text per purpose.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(128), unique=True)
    client_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("clients.id", ondelete="SET NULL"), index=True
    )
    appointment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("appointments.id", ondelete="SET NULL"), index=True
    )
    call_sid: Mapped[str | None] = mapped_column(sa.String(34), index=True)
    channel: Mapped[str] = mapped_column(sa.String(16), default="sms")
    direction: Mapped[str] = mapped_column(sa.String(16))
    from_number: Mapped[str | None] = mapped_column(sa.String(ADDRESS_LENGTH))
    to_number: Mapped[str | None] = mapped_column(sa.String(ADDRESS_LENGTH))
    body: Mapped[str | None] = mapped_column(sa.Text)
    language: Mapped[str | None] = mapped_column(sa.String(2))
    purpose: Mapped[str | None] = mapped_column(sa.String(32))
    recording_url: Mapped[str | None] = mapped_column(sa.String(512))
    recording_duration: Mapped[int | None] = mapped_column()
    transcription: Mapped[str | None] = mapped_column(sa.Text)
    # Outbound: queued (committed, not yet handed to Twilio), retrying, unknown (an answer was
    # lost), sent, delivered, undelivered, failed, or refused (the policy stopped it).
    status: Mapped[str | None] = mapped_column(sa.String(16))
    # Why the messaging policy refused this text (status "refused").
    refused_reason: Mapped[str | None] = mapped_column(sa.String(255))
    # The caller or sender whose call or text led to this outbound text (for per-caller limits).
    caller_number: Mapped[str | None] = mapped_column(sa.String(ADDRESS_LENGTH))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    error_code: Mapped[int | None] = mapped_column()
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client = relationship("Client")

    __table_args__ = (
        sa.CheckConstraint("channel IN ('sms', 'voicemail')", name="channel"),
        sa.CheckConstraint("direction IN ('inbound', 'outbound')", name="direction"),
        sa.Index("ix_messages_client_created", "client_id", "created_at"),
        # The daily limits count texts per destination and per caller; the sweep finds texts
        # still queued.
        sa.Index("ix_messages_to_created", "to_number", "created_at"),
        sa.Index("ix_messages_caller_created", "caller_number", "created_at"),
        sa.Index("ix_messages_status_updated", "status", "updated_at"),
    )
