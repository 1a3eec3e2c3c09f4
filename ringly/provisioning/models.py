"""Provisioning jobs and every phone number Ringly has bought."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ringly.db import Timestamped, UTCDateTime, db

JOB_STATES = (
    "queued", "searching", "purchasing", "configuring", "verifying", "completed", "failed"
)
TERMINAL_JOB_STATES = ("completed", "failed")
NUMBER_TYPES = ("local", "toll_free", "mobile")
NUMBER_STATUSES = ("purchased", "active", "quarantined", "released")


def new_job_id() -> str:
    return str(uuid.uuid4())


class ProvisioningJob(Timestamped, db.Model):
    """The durable record of one provision request and its saga's recovery points."""

    __tablename__ = "provisioning_jobs"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_job_id)
    client_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("clients.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[str] = mapped_column(sa.String(16), default="queued", index=True)
    step: Mapped[str | None] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # Tag carried in the number's FriendlyName so a lost purchase response can be found again.
    tag: Mapped[str] = mapped_column(sa.String(32), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    request_fingerprint: Mapped[str | None] = mapped_column(sa.String(64))
    request: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    chosen_number: Mapped[str | None] = mapped_column(sa.String(16))
    choice_reason: Mapped[str | None] = mapped_column(sa.Text)
    twilio_sid: Mapped[str | None] = mapped_column(sa.String(34))
    purchase_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error_code: Mapped[str | None] = mapped_column(sa.String(64))
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    twilio_error_code: Mapped[int | None] = mapped_column()
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client = relationship("Client")

    __table_args__ = (
        sa.CheckConstraint(
            "state IN ('queued', 'searching', 'purchasing', 'configuring', 'verifying', "
            "'completed', 'failed')",
            name="state",
        ),
    )

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_JOB_STATES


class PhoneNumber(Timestamped, db.Model):
    """Every number ever bought, kept after release so spending can be accounted for."""

    __tablename__ = "phone_numbers"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(sa.String(34), unique=True)
    phone_number: Mapped[str] = mapped_column(sa.String(16), index=True)
    number_type: Mapped[str] = mapped_column(sa.String(16), default="local")
    client_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("clients.id", ondelete="SET NULL"), index=True
    )
    job_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("provisioning_jobs.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(sa.String(16), default="purchased", index=True)
    friendly_name: Mapped[str | None] = mapped_column(sa.String(64))
    locality: Mapped[str | None] = mapped_column(sa.String(128))
    region: Mapped[str | None] = mapped_column(sa.String(64))
    capabilities: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    monthly_price: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 4))
    price_unit: Mapped[str | None] = mapped_column(sa.String(3))
    voice_url: Mapped[str | None] = mapped_column(sa.String(512))
    voice_fallback_url: Mapped[str | None] = mapped_column(sa.String(512))
    sms_url: Mapped[str | None] = mapped_column(sa.String(512))
    status_callback: Mapped[str | None] = mapped_column(sa.String(512))
    purchased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    quarantined_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    missing_at_twilio_since: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client = relationship("Client")

    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('purchased', 'active', 'quarantined', 'released')", name="status"
        ),
        sa.CheckConstraint("number_type IN ('local', 'toll_free', 'mobile')", name="number_type"),
    )
