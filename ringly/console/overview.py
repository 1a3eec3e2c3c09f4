"""The dashboard's figures: numbers, jobs, calls and bookings today, and this month's cost."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from ringly.booking.models import Appointment
from ringly.db import db, utcnow
from ringly.messaging.models import Message
from ringly.provisioning.models import PhoneNumber, ProvisioningJob
from ringly.provisioning.states import TERMINAL_JOB_STATES, JobState
from ringly.voice.models import FINAL_STATUSES, Call

HELD = ("purchased", "active", "quarantined")
# Outbound texts Twilio took (and so bills), whatever became of them after.
BILLED_TEXTS = ("sending", "sent", "delivered", "undelivered")


@dataclass(frozen=True)
class Cost:
    numbers: Decimal
    minutes: int
    calls: Decimal
    texts_sent: int
    texts: Decimal
    unit: str

    @property
    def total(self) -> Decimal:
        return self.numbers + self.calls + self.texts


@dataclass(frozen=True)
class Dashboard:
    zone: str
    day_start: datetime
    month_start: datetime
    numbers_active: int
    numbers_quarantined: int
    jobs_in_flight: int
    jobs_failed_today: int
    calls_today: int
    bookings_today: int
    cost: Cost


def _count(query: sa.Select) -> int:
    return db.session.scalar(query) or 0


def call_cost(client_id: int | None, since: datetime) -> tuple[int, Decimal]:
    """Minutes (each call rounded up, as Twilio bills) and their cost since `since`: Twilio's
    price where it reported one, else CALL_PRICE_PER_MINUTE."""
    query = sa.select(Call.duration_seconds, Call.price).where(
        Call.created_at >= since, Call.status.in_(FINAL_STATUSES), Call.purpose == "caller")
    if client_id is not None:
        query = query.where(Call.client_id == client_id)
    per_minute = current_app.config["CALL_PRICE_PER_MINUTE"]
    minutes, cost = 0, Decimal(0)
    for seconds, price in db.session.execute(query):
        billed = math.ceil((seconds or 0) / 60)
        minutes += billed
        cost += abs(price) if price is not None else per_minute * billed
    return minutes, cost


def texts_sent(client_id: int | None, since: datetime) -> int:
    query = sa.select(sa.func.count()).select_from(Message).where(
        Message.direction == "outbound", Message.created_at >= since,
        Message.status.in_(BILLED_TEXTS))
    if client_id is not None:
        query = query.where(Message.client_id == client_id)
    return _count(query)


def month_cost(since: datetime, client_id: int | None = None) -> Cost:
    """What this month costs so far (numbers held, minutes, texts): an estimate, since Twilio
    bills on its own schedule and its REST answers give no number price."""
    numbers_query = sa.select(sa.func.coalesce(sa.func.sum(PhoneNumber.monthly_price), 0)) \
        .where(PhoneNumber.status.in_(HELD))
    if client_id is not None:
        numbers_query = numbers_query.where(PhoneNumber.client_id == client_id)
    minutes, calls = call_cost(client_id, since)
    sent = texts_sent(client_id, since)
    return Cost(Decimal(db.session.scalar(numbers_query) or 0), minutes, calls, sent,
                current_app.config["TEXT_PRICE"] * sent,
                current_app.config["NUMBER_PRICE_UNIT"])


def dashboard(zone_name: str) -> Dashboard:
    now = utcnow().astimezone(ZoneInfo(zone_name))
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    numbers = dict(db.session.execute(
        sa.select(PhoneNumber.status, sa.func.count()).group_by(PhoneNumber.status)).all())
    figures = Dashboard(
        zone=zone_name, day_start=day, month_start=month,
        numbers_active=numbers.get("active", 0) + numbers.get("purchased", 0),
        numbers_quarantined=numbers.get("quarantined", 0),
        jobs_in_flight=_count(sa.select(sa.func.count()).select_from(ProvisioningJob).where(
            ProvisioningJob.state.not_in(TERMINAL_JOB_STATES))),
        jobs_failed_today=_count(sa.select(sa.func.count()).select_from(ProvisioningJob).where(
            ProvisioningJob.state == JobState.FAILED, ProvisioningJob.finished_at >= day)),
        calls_today=_count(sa.select(sa.func.count()).select_from(Call).where(
            Call.created_at >= day, Call.purpose == "caller")),
        bookings_today=_count(sa.select(sa.func.count()).select_from(Appointment).where(
            Appointment.created_at >= day)),
        cost=month_cost(month),
    )
    db.session.rollback()
    return figures
