"""The spending guard: caps on purchases per hour and numbers held, checked before buying."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from ringly.db import db, utcnow
from ringly.provisioning.models import PhoneNumber, ProvisioningJob
from ringly.provisioning.states import JobState

# Any constant works: it only has to be the same for every process that checks the caps.
SPENDING_LOCK_KEY = 7_461_001


class SpendingLimitReached(Exception):
    """Buying one more number would pass a configured cap."""


def lock_spending() -> None:
    """Serialise check-and-mark across processes until this transaction ends (PostgreSQL)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SPENDING_LOCK_KEY}
        )


def check_spending(job: ProvisioningJob) -> None:
    """Raise SpendingLimitReached unless one more purchase fits both caps.

    Purchases in flight (jobs marked `purchasing` without a SID yet) count as bought,
    so two jobs checking at once cannot both take the last slot. The caller holds
    `lock_spending()` and commits the mark in the same transaction.
    """
    in_flight, held, bought_last_hour = _spent(job.id)
    total_cap = int(current_app.config["NUMBERS_TOTAL_LIMIT"])
    hourly_cap = int(current_app.config["PURCHASES_PER_HOUR_LIMIT"])
    if held + in_flight >= total_cap:
        raise SpendingLimitReached(
            f"the account already holds {held + in_flight} numbers and the limit is "
            f"{total_cap} (NUMBERS_TOTAL_LIMIT); nothing was bought"
        )
    if bought_last_hour + in_flight >= hourly_cap:
        raise SpendingLimitReached(
            f"{bought_last_hour + in_flight} numbers were bought in the last hour and the limit "
            f"is {hourly_cap} (PURCHASES_PER_HOUR_LIMIT); nothing was bought"
        )


def _spent(job_id: str | None = None) -> tuple[int, int, int]:
    """(purchases in flight but for `job_id`'s, numbers held, numbers bought in the last hour)."""
    in_flight = db.session.scalar(
        sa.select(sa.func.count()).select_from(ProvisioningJob).where(
            ProvisioningJob.state == JobState.PURCHASING,
            ProvisioningJob.twilio_sid.is_(None),
            ProvisioningJob.id != (job_id or ""),
        )
    ) or 0
    held = db.session.scalar(
        sa.select(sa.func.count()).select_from(PhoneNumber).where(PhoneNumber.status != "released")
    ) or 0
    bought_last_hour = db.session.scalar(
        sa.select(sa.func.count()).select_from(PhoneNumber).where(
            PhoneNumber.purchased_at >= utcnow() - timedelta(hours=1)
        )
    ) or 0
    return in_flight, held, bought_last_hour


def headroom() -> tuple[int, str]:
    """How many more numbers both caps allow now, and which cap is the tighter (its setting):
    what an operator checks before submitting a file of provision requests."""
    in_flight, held, bought_last_hour = _spent()
    total_left = int(current_app.config["NUMBERS_TOTAL_LIMIT"]) - held - in_flight
    hourly_left = int(current_app.config["PURCHASES_PER_HOUR_LIMIT"]) - bought_last_hour - in_flight
    if hourly_left <= total_left:
        return max(hourly_left, 0), "PURCHASES_PER_HOUR_LIMIT"
    return max(total_left, 0), "NUMBERS_TOTAL_LIMIT"
