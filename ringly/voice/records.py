"""What the receptionist recorded for a client: calls and this month's usage."""
from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Flask

from ringly.booking.slots import client_zone
from ringly.clients.models import Client
from ringly.clients.services import get_client
from ringly.db import db, newest_first, utcnow
from ringly.messaging.models import Message
from ringly.provisioning.models import PhoneNumber
from ringly.signals import verification_call_made
from ringly.voice.models import FINAL_STATUSES, Call

CALLER = "caller"
VERIFICATION = "verification"


def list_calls(client_id: int, limit: int, before_id: int | None = None, *,
               include_verification: bool = False) -> list[Call]:
    """Newest first: up to `limit` calls older than `before_id` (the previous page's last).
    Provisioning's verification requests only when asked for."""
    query = sa.select(Call).where(Call.client_id == client_id)
    if not include_verification:
        query = query.where(Call.purpose == CALLER)
    return list(db.session.scalars(newest_first(query, Call.id, limit, before_id)))


def finish_verification_call(call_sid: str) -> None:
    """Provisioning's signed check of a number's voice URL was recorded as a ringing call: mark
    it `verification` and finished (Twilio never reports a status for it). The sender commits."""
    now = utcnow()
    db.session.execute(
        sa.update(Call).where(Call.call_sid == call_sid)
        .values(purpose=VERIFICATION, status="completed", duration_seconds=0,
                ended_at=sa.func.coalesce(Call.ended_at, now), updated_at=now)
        .execution_options(synchronize_session=False))


def month_start(client: Client, now: datetime) -> datetime:
    """Midnight on the first of the client's current month, in the client's time zone."""
    local = now.astimezone(client_zone(client))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def usage(client_id: int, now: datetime | None = None) -> dict[str, Any]:
    """This month's finished calls and their minutes (each rounded up, as Twilio bills), texts
    and number cost. Calls still in progress count once Twilio reports a final status;
    provisioning's verification requests never do."""
    client = get_client(client_id)
    since = month_start(client, now or utcnow())
    calls = db.session.execute(
        sa.select(Call.duration_seconds, Call.price)
        .where(Call.client_id == client_id, Call.created_at >= since,
               Call.status.in_(FINAL_STATUSES), Call.purpose == CALLER)).all()
    messages = db.session.scalar(
        sa.select(sa.func.count()).select_from(Message)
        .where(Message.client_id == client_id, Message.channel == "sms",
               Message.created_at >= since))
    numbers = db.session.scalars(
        sa.select(PhoneNumber.monthly_price)
        .where(PhoneNumber.client_id == client_id,
               PhoneNumber.status.in_(("purchased", "active", "quarantined"))))
    return {
        "client_id": client_id,
        "period_start": since,
        "calls": len(calls),
        "minutes": sum(math.ceil((seconds or 0) / 60) for seconds, _ in calls),
        "call_cost": sum((price or Decimal(0) for _, price in calls), Decimal(0)),
        "messages": messages or 0,
        "number_cost": sum((price or Decimal(0) for price in numbers), Decimal(0)),
    }


def init_app(app: Flask) -> None:
    verification_call_made.connect(finish_verification_call)
