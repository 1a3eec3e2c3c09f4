"""Provisioning jobs and every phone number Ringly has bought."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ringly import metrics
from ringly.db import Timestamped, UTCDateTime, db, utcnow
from ringly.provisioning.states import (
    STEP_ON_ENTRY,
    TERMINAL_JOB_STATES,
    EnumString,
    JobState,
    JobStep,
    check_transition,
)

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
    # Change both only through move_to(), which also keeps the timestamps.
    state: Mapped[JobState] = mapped_column(EnumString(JobState, 16), default=JobState.QUEUED,
                                            index=True)
    step: Mapped[JobStep | None] = mapped_column(EnumString(JobStep, 64), default=JobStep.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # Tag carried in the number's FriendlyName so a lost purchase response can be found again.
    tag: Mapped[str] = mapped_column(sa.String(32), unique=True)
    # An Idempotency-Key is unique per API key (see __table_args__): two keys never share jobs.
    api_key_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    # The console's admin who asked for it, when it came from the console (audit events of the
    # job's steps name them, as they name the API key of a job asked for through the API).
    admin_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("admin_users.id", ondelete="SET NULL")
    )
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(255))
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
            "state IN (" + ", ".join(f"'{state}'" for state in JobState) + ")", name="state"
        ),
        sa.Index("ix_provisioning_jobs_idempotency_key_per_api_key", "api_key_id",
                 "idempotency_key", unique=True),
    )

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_JOB_STATES

    def move_to(self, state: JobState, step: JobStep | None = None, *,
                now: datetime | None = None) -> None:
        """Move the job to `state` (at `step`, else the state's first step) and keep its
        timestamps with it: started_at once work starts, finished_at when it ends.

        Raises IllegalTransition for a move the saga never makes, such as out of `completed`.
        """
        state = JobState(state)
        check_transition(JobState(self.state or JobState.QUEUED), state)
        now = now or utcnow()
        self.state = state
        self.step = step if step is not None else STEP_ON_ENTRY[state]
        if state is not JobState.QUEUED and self.started_at is None:
            self.started_at = now
        if state in TERMINAL_JOB_STATES:
            self.finished_at = now
            self.next_attempt_at = None
        self.updated_at = now
        metrics.count_job_move(state)


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
    # The Messaging Service Ringly put the number in (TWILIO_MESSAGING_SERVICE_SID at the
    # time), so a release takes it out of that one even after the setting changed.
    messaging_service_sid: Mapped[str | None] = mapped_column(sa.String(34))

    client = relationship("Client")

    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('purchased', 'active', 'quarantined', 'released')", name="status"
        ),
        sa.CheckConstraint("number_type IN ('local', 'toll_free', 'mobile')", name="number_type"),
    )
