"""Booking rules: checking a spoken time, booking a slot exactly once, cancelling, confirming."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ringly import events
from ringly.admin.services import record_event
from ringly.booking.models import HOLDING_STATUSES, Appointment
from ringly.booking.slots import (
    REACH,
    Bookings,
    Unbookable,
    bookable,
    client_zone,
    nearest_free,
    rules,
    to_local,
)
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


def holding(client_id: int, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """(start, end) of the client's holding appointments starting in [start, end)."""
    rows = db.session.execute(
        sa.select(Appointment.starts_at, Appointment.ends_at).where(
            Appointment.client_id == client_id,
            Appointment.status.in_(HOLDING_STATUSES),
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
        )
    )
    return [(row.starts_at, row.ends_at) for row in rows]


def unbookable(client: Client, now: datetime) -> Unbookable:
    """What a caller cannot have at `now`, reading the client's appointments as needed."""
    return Unbookable(client, now, partial(holding, client.id))


def check_time(client: Client, text: str, locale: str, now: datetime) -> TimeCheck:
    """What the caller said, as a bookable slot, or the nearest free ones; never a guess."""
    local_now = now.astimezone(client_zone(client))
    understood = understand(text, locale, local_now, client.timezone)
    if understood is None:
        return TimeCheck(None, None)
    taken = unbookable(client, local_now)
    resolution = resolve(client, understood, local_now, taken)
    if resolution.slot is not None and resolution.slot not in taken:
        return TimeCheck(resolution.slot, None)
    # A slot resolve found but the rules refuse (inside the notice, past the horizon, full) is
    # what the caller asked for: offer the nearest ones the rules allow.
    asked = resolution.asked or resolution.slot
    if asked is None:
        return TimeCheck(None, None)
    return TimeCheck(None, asked, nearest_free(client, asked, taken, local_now))


def alternatives(client: Client, around: datetime, now: datetime, count: int = 3) -> list[datetime]:
    local_now = now.astimezone(client_zone(client))
    return nearest_free(client, around.astimezone(local_now.tzinfo),
                        unbookable(client, local_now), local_now, count)


def book_slot(client: Client, *, call_sid: str | None, name: str, phone: str,
              starts_at: datetime, language: str, now: datetime,
              replacing: Appointment | None = None) -> Appointment:
    """Book the slot in the caller's transaction (the caller commits; it also texts the caller).

    The slot must follow every rule of the client at `now` (hours, notice, horizon, closed
    dates, a free place, no overlap with another appointment and its buffer), else SlotTaken.
    The partial unique index on (client, start, seat) decides between two callers confirming
    the same place at once; the loser gets SlotTaken. A replayed confirmation on the same call
    returns the first booking. `replacing`: the caller's own appointment being moved, which the
    new one may overlap (the caller cancels it once this one is booked).
    """
    if call_sid:
        existing = db.session.scalar(sa.select(Appointment).where(
            Appointment.call_sid == call_sid, Appointment.status.in_(HOLDING_STATUSES)))
        if existing is not None and existing is not replacing:
            return existing
    if not bookable(client, starts_at, now):
        raise SlotTaken("that time is not a bookable slot")
    _take_turn(client)
    near = [row for row in db.session.execute(
        sa.select(Appointment.id, Appointment.starts_at, Appointment.ends_at, Appointment.seat)
        .where(Appointment.client_id == client.id, Appointment.status.in_(HOLDING_STATUSES),
               Appointment.starts_at > starts_at - REACH, Appointment.starts_at < starts_at + REACH)
    ) if replacing is None or row.id != replacing.id]
    if Bookings(client, [(row.starts_at, row.ends_at) for row in near]).overlaps(starts_at):
        raise SlotTaken("that time overlaps another appointment")
    held = {row.seat for row in near if row.starts_at == starts_at}
    if len(held) >= rules(client).max_per_slot:
        raise SlotTaken("that slot was just booked")
    for seat in sorted(set(range(1, rules(client).max_per_slot + 1)) - held):
        appointment = _insert(client, seat, call_sid=call_sid, name=name, phone=phone,
                              starts_at=starts_at, language=language)
        if appointment is not None:
            if replacing is None:  # a move is announced as appointment.changed instead
                events.emit("appointment.booked", appointment_event(appointment),
                            client_id=client.id)
            return appointment
    raise SlotTaken("that slot was just booked")


def _take_turn(client: Client) -> None:
    """Bookings of one client take turns until the transaction ends.

    The seat index refuses two appointments in one place, but not one that overlaps another's
    buffer (they start at different times) nor more places than `max_per_slot` says: those
    need what is already booked read and the insert made with no other booking in between. So
    a booking locks the client's row first; a second booking of that client waits for the first
    to commit and then reads it. Storing each appointment's blocked-until would not spare the
    lock: only a PostgreSQL exclusion constraint could refuse overlapping ranges alone, and it
    cannot read a buffer that is the client's setting. SQLite has no row locks: an UPDATE that
    changes nothing takes its database write lock, which orders writers just as well.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(sa.text("UPDATE clients SET slot_minutes = slot_minutes WHERE id = :id"),
                           {"id": client.id})
    else:
        db.session.execute(sa.select(Client.id).where(Client.id == client.id).with_for_update())


def _insert(client: Client, seat: int, *, call_sid: str | None, name: str, phone: str,
            starts_at: datetime, language: str) -> Appointment | None:
    """The appointment in this place, or None when the place was taken a moment ago."""
    for _attempt in range(3):
        appointment = Appointment(
            client_id=client.id, call_sid=call_sid, customer_name=name, customer_phone=phone,
            starts_at=starts_at, ends_at=starts_at + timedelta(minutes=client.slot_minutes),
            seat=seat, status="booked", confirmation_code=new_code(), language=language,
            source="voice",
        )
        try:
            with db.session.begin_nested():
                db.session.add(appointment)
        except IntegrityError as exc:
            if "confirmation_code" in str(exc.orig):
                continue  # a code collision: draw another
            return None
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
    """Cancel in the caller's transaction; the embedding product hears appointment.cancelled."""
    _mark_cancelled(appointment)
    events.emit("appointment.cancelled",
                appointment_event(appointment, cancelled_at=appointment.cancelled_at),
                client_id=appointment.client_id)


def appointment_event(appointment: Appointment, **extra: Any) -> dict[str, Any]:
    """An appointment as its events carry it (appointment.booked, .changed and .cancelled):
    `starts_at` in UTC as every time of an event, and as the appointment answers do, the same
    start in the client's zone with its offset (`starts_at_local`, text: an event's moments are
    otherwise written in UTC) and that zone (`timezone`)."""
    client = appointment.client
    return {"appointment_id": appointment.id, "client_id": appointment.client_id,
            "starts_at": appointment.starts_at,
            "starts_at_local": to_local(client, appointment.starts_at).isoformat(),
            "timezone": client_zone(client).key, "ends_at": appointment.ends_at,
            "customer_name": appointment.customer_name,
            "customer_phone": appointment.customer_phone,
            "confirmation_code": appointment.confirmation_code,
            "language": appointment.language, "source": appointment.source,
            "call_sid": appointment.call_sid, "status": appointment.status, **extra}


def _mark_cancelled(appointment: Appointment) -> None:
    appointment.status = "cancelled"
    appointment.cancelled_at = utcnow()


def confirm(appointment: Appointment) -> None:
    appointment.status = "confirmed"


def callers_appointment(client_id: int, phone: str | None, starts_at: datetime,
                        now: datetime) -> Appointment | None:
    """The caller's appointment with the client at `starts_at`, still held and upcoming, locked
    until the caller's transaction ends (None once it is cancelled, moved or past)."""
    return db.session.scalar(
        sa.select(Appointment)
        .where(Appointment.client_id == client_id, Appointment.customer_phone == phone,
               Appointment.starts_at == starts_at, Appointment.starts_at > now,
               Appointment.status.in_(HOLDING_STATUSES))
        .order_by(Appointment.id).limit(1).with_for_update()
    )


def reschedule(appointment: Appointment, starts_at: datetime, *, call_sid: str | None,
               language: str, now: datetime) -> Appointment:
    """Move an appointment to `starts_at` in the caller's transaction (the caller commits).

    The new time is booked first (same name and phone, a new confirmation code) and the old
    appointment cancelled only after it, so one commit moves it: never both lost, never both
    held. SlotTaken leaves the old one as it was. The same time changes nothing."""
    if starts_at == appointment.starts_at:
        return appointment
    moved = book_slot(appointment.client, call_sid=call_sid, name=appointment.customer_name,
                      phone=appointment.customer_phone, starts_at=starts_at, language=language,
                      now=now, replacing=appointment)
    # One event for the move (not a booking and a cancellation): the new appointment, and
    # which one it replaces.
    _mark_cancelled(appointment)
    events.emit("appointment.changed", appointment_event(
        moved, previous_appointment_id=appointment.id,
        previous_starts_at=appointment.starts_at), client_id=moved.client_id)
    record_event(
        "appointment.changed",
        f"appointment {appointment.id} moved from {appointment.starts_at.isoformat()} to "
        f"{moved.starts_at.isoformat()} (appointment {moved.id}) by the caller",
        subject=moved,
        data={"from_appointment_id": appointment.id, "from": appointment.starts_at,
              "to": moved.starts_at, "call_sid": call_sid},
    )
    return moved


def cancel_by_caller(appointment: Appointment, *, call_sid: str | None) -> None:
    """Cancel an appointment the caller asked to cancel, audited (the caller commits)."""
    cancel(appointment)
    record_event(
        "appointment.cancelled",
        f"appointment {appointment.id} at {appointment.starts_at.isoformat()} cancelled by "
        f"the caller",
        subject=appointment,
        data={"starts_at": appointment.starts_at, "call_sid": call_sid},
    )


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
