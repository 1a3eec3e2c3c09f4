"""Recording, releasing and quarantining numbers: nothing bought is ever left unrecorded."""
from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from ringly import events, metrics
from ringly.admin.services import record_event
from ringly.clients.models import Client
from ringly.db import db, utcnow
from ringly.provisioning.messaging_service import leave_messaging_service
from ringly.provisioning.models import PhoneNumber
from ringly.provisioning.numbers import number_type_of
from ringly.telephony import (
    IncomingNumber,
    NumberNotFound,
    TelephonyError,
    get_gateway,
)

log = logging.getLogger(__name__)


def number_by_sid(sid: str | None) -> PhoneNumber | None:
    """The recorded number with this Twilio sid, if Ringly recorded it."""
    if not sid:
        return None
    return db.session.scalar(sa.select(PhoneNumber).where(PhoneNumber.sid == sid))


def phone_number_row(incoming: IncomingNumber, *, job_id: str | None,
                     client_id: int | None, details: dict | None = None) -> PhoneNumber:
    """The PhoneNumber row for a number Twilio says we own (added, not committed)."""
    number = number_by_sid(incoming.sid)
    if number is None:
        number = PhoneNumber(sid=incoming.sid, purchased_at=utcnow(), status="purchased")
        db.session.add(number)
    details = details or {}
    number.phone_number = incoming.phone_number
    number.number_type = (
        incoming.number_type if incoming.number_type in ("local", "toll_free", "mobile")
        else number_type_of(incoming.phone_number)
    )
    number.job_id = job_id
    number.client_id = client_id
    number.friendly_name = incoming.friendly_name
    number.locality = details.get("locality") or number.locality
    number.region = details.get("region") or number.region
    number.capabilities = dict(incoming.capabilities or details.get("capabilities") or {})
    if number.monthly_price is None:
        number.monthly_price = current_app.config["NUMBER_MONTHLY_PRICES"].get(number.number_type)
        number.price_unit = current_app.config["NUMBER_PRICE_UNIT"]
    record_configuration(number, incoming)
    return number


def record_configuration(number: PhoneNumber, incoming: IncomingNumber) -> None:
    """Keep the webhooks as Twilio reported them."""
    number.voice_url = incoming.voice_url
    number.voice_fallback_url = incoming.voice_fallback_url
    number.sms_url = incoming.sms_url
    number.status_callback = incoming.status_callback


def detach_from_client(number: PhoneNumber) -> None:
    """Clear the client's number fields if they still point at this number."""
    if number.client_id is None:
        return
    client = db.session.get(Client, number.client_id)
    if client is not None and client.twilio_number_sid == number.sid:
        client.ringlypro_number = None
        client.twilio_number_sid = None
        client.rachel_enabled = False


def release_now(number: PhoneNumber, reason: str) -> str:
    """Release at Twilio and record it; on a transient failure quarantine for the release task.

    Returns the number's new status. The caller commits.
    """
    try:
        # Out of the Messaging Service first: a number released while still in it could
        # not be taken out later by Ringly.
        leave_messaging_service(number)
        get_gateway().release(number.sid)
        metrics.count_number("released")
        note = "released at Twilio"
    except NumberNotFound:
        note = "already gone at Twilio"
    except TelephonyError as error:
        # Twilio could not be reached: keep it quarantined so the release task retries.
        number.status = "quarantined"
        number.quarantined_until = utcnow()
        detach_from_client(number)
        record_event("number.quarantined", f"{number.phone_number} quarantined ({reason}); "
                     f"release failed: {error}", subject=number)
        return number.status
    number.status = "released"
    number.released_at = utcnow()
    detach_from_client(number)
    record_event("number.released", f"{number.phone_number} {note} ({reason})", subject=number)
    events.emit("number.released",
                {"sid": number.sid, "phone_number": number.phone_number,
                 "client_id": number.client_id, "reason": reason}, client_id=number.client_id)
    return number.status


def quarantine(number: PhoneNumber, days: int, reason: str) -> None:
    """Keep the number (still paid for) for `days`, then the release task gives it back."""
    number.status = "quarantined"
    number.quarantined_until = utcnow() + timedelta(days=days)
    detach_from_client(number)
    record_event("number.quarantined", f"{number.phone_number} quarantined for {days} days "
                 f"({reason})", subject=number)


def release_due_quarantined() -> int:
    """Release every quarantined number whose quarantine has ended; returns how many."""
    due = list(db.session.scalars(
        sa.select(PhoneNumber).where(
            PhoneNumber.status == "quarantined", PhoneNumber.quarantined_until <= utcnow()
        )
    ))
    released = 0
    for number in due:
        if release_now(number, "quarantine ended") == "released":
            released += 1
        db.session.commit()
    return released
