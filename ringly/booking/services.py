"""Booking rules: checking a spoken time, booking a slot exactly once, cancelling, confirming."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ringly.booking.models import HOLDING_STATUSES, Appointment
from ringly.booking.slots import client_zone, is_slot, nearest_free
from ringly.booking.understanding import resolve, understand
from ringly.clients.models import Client
from ringly.db import db, utcnow
from ringly.errors import Conflict

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # nothing a caller could misread (0/O, 1/I)


class SlotTaken(Conflict):
    """The slot is booked (perhaps a moment ago by another caller) or not bookable."""


@dataclass(frozen=True)
class TimeCheck:
    slot: datetime | None  # bookable now
    asked: datetime | None  # understood but not bookable: offer `alternatives` near it
    alternatives: list[datetime] = field(default_factory=list)


def taken_starts(client_id: int, start: datetime, end: datetime) -> set[datetime]:
    rows = db.session.scalars(
        sa.select(Appointment.starts_at).where(
            Appointment.client_id == client_id,
            Appointment.status.in_(HOLDING_STATUSES),
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
        )
    )
    return set(rows)


def check_time(client: Client, text: str, locale: str, now: datetime) -> TimeCheck:
    """What the caller said, as a bookable slot, or the nearest free ones; never a guess."""
    local_now = now.astimezone(client_zone(client))
    understood = understand(text, locale, local_now, client.timezone)
    if understood is None:
        return TimeCheck(None, None)
    taken = taken_starts(client.id, now - timedelta(days=1), now + timedelta(days=90))
    resolution = resolve(client, understood, local_now, taken)
    if resolution.slot is not None:
        return TimeCheck(resolution.slot, None)
    if resolution.asked is None:
        return TimeCheck(None, None)
    return TimeCheck(None, resolution.asked,
                     nearest_free(client, resolution.asked, taken, local_now))


def alternatives(client: Client, around: datetime, now: datetime, count: int = 3) -> list[datetime]:
    around = around.astimezone(client_zone(client))
    taken = taken_starts(client.id, around - timedelta(days=8), around + timedelta(days=61))
    return nearest_free(client, around, taken, now.astimezone(around.tzinfo), count)


def book_slot(client: Client, *, call_sid: str | None, name: str, phone: str,
              starts_at: datetime, language: str, now: datetime) -> Appointment:
    """Book the slot in the caller's transaction (the caller commits; it also texts the caller).

    The partial unique index decides between two callers confirming at once; the loser gets
    SlotTaken. A replayed confirmation on the same call returns the first booking.
    """
    if call_sid:
        existing = db.session.scalar(sa.select(Appointment).where(
            Appointment.call_sid == call_sid, Appointment.status.in_(HOLDING_STATUSES)))
        if existing is not None:
            return existing
    if starts_at <= now or not is_slot(client, starts_at):
        raise SlotTaken("that time is not a bookable slot")
    for _attempt in range(3):
        appointment = Appointment(
            client_id=client.id, call_sid=call_sid, customer_name=name, customer_phone=phone,
            starts_at=starts_at, ends_at=starts_at + timedelta(minutes=client.slot_minutes),
            status="booked", confirmation_code=new_code(), language=language, source="voice",
        )
        try:
            with db.session.begin_nested():
                db.session.add(appointment)
        except IntegrityError as exc:
            if "confirmation_code" in str(exc.orig):
                continue  # a code collision: draw another
            raise SlotTaken("that slot was just booked") from exc
        return appointment
    raise SlotTaken("could not draw a unique confirmation code")


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


def next_appointment(client_id: int, phone: str) -> Appointment | None:
    return db.session.scalar(
        sa.select(Appointment)
        .where(Appointment.client_id == client_id, Appointment.customer_phone == phone,
               Appointment.status.in_(HOLDING_STATUSES), Appointment.starts_at > utcnow())
        .order_by(Appointment.starts_at)
        .limit(1)
    )


def cancel(appointment: Appointment) -> None:
    appointment.status = "cancelled"
    appointment.cancelled_at = utcnow()


def confirm(appointment: Appointment) -> None:
    appointment.status = "confirmed"


def list_appointments(client_id: int, limit: int, after: tuple[datetime, int] | None = None,
                      starts_from: datetime | None = None,
                      starts_before: datetime | None = None) -> list[Appointment]:
    """Soonest first (ties by id): up to `limit` appointments after the key `after` (the previous
    page's last (starts_at, id)), optionally starting in [starts_from, starts_before)."""
    query = sa.select(Appointment).where(Appointment.client_id == client_id)
    if starts_from is not None:
        query = query.where(Appointment.starts_at >= starts_from)
    if starts_before is not None:
        query = query.where(Appointment.starts_at < starts_before)
    if after is not None:
        starts_at, appointment_id = after
        query = query.where(sa.or_(
            Appointment.starts_at > starts_at,
            sa.and_(Appointment.starts_at == starts_at, Appointment.id > appointment_id)))
    return list(db.session.scalars(
        query.order_by(Appointment.starts_at, Appointment.id).limit(limit)))
