"""Outbound texts: checked by the policy and recorded first (one per purpose), then sent by a
task through the gateway."""
from __future__ import annotations

import logging
from collections.abc import Mapping

import sqlalchemy as sa
from flask import current_app

from ringly import events, logs, metrics
from ringly.booking.models import Appointment
from ringly.booking.slots import to_local
from ringly.clients.models import Client
from ringly.db import db, utcnow
from ringly.destinations import check_client_destination
from ringly.messaging import policy
from ringly.messaging.models import Message
from ringly.messaging.outbox import send_after_commit
from ringly.queue import retry_delay
from ringly.telephony import (
    PermanentTelephonyError,
    SentMessage,
    TransientTelephonyError,
    get_gateway,
)
from ringly.text import whole_number
from ringly.wording import prompt, short_when

log = logging.getLogger(__name__)

STATUS_CALLBACK_PATH = "/webhook/twilio/sms-status"
# Twilio's message statuses in the order they happen; a late or replayed callback never
# moves a message backwards.
STATUS_ORDER = {"queued": 0, "accepted": 0, "sending": 1, "sent": 2, "delivered": 3,
                "undelivered": 3, "failed": 3, "read": 4}
DONE_STATUSES = ("sent", "delivered", "undelivered", "failed", "read")
NEVER_SENT = (*DONE_STATUSES, "refused")
MAX_SEND_ATTEMPTS = 6


class SendLater(Exception):
    """A transient failure: the task retries after `delay` seconds."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"retry in {delay:.0f} s")
        self.delay = delay


def queue_confirmation(appointment: Appointment, client: Client,
                       caller: str | None = None) -> Message:
    """Record the booking's confirmation text in this transaction; it is sent after commit,
    unless the messaging policy refuses it (then it is kept as `refused`, with the reason).

    `caller` is who asked for it (the call's From), for the per-caller daily limit.
    """
    language = appointment.language
    return _queue_text(
        appointment, client, caller, purpose="confirmation", language=language,
        body=prompt("sms_confirmation", language, business=client.business_name,
                    when=short_when(to_local(client, appointment.starts_at), language),
                    code=appointment.confirmation_code))


def queue_change_confirmation(appointment: Appointment, previous: Appointment, client: Client,
                              caller: str | None = None) -> Message:
    """The text saying a caller's appointment moved from `previous` to `appointment` (the new
    one, with its code), like a confirmation: policy first, sent after commit."""
    language = appointment.language
    return _queue_text(
        appointment, client, caller, purpose="change", language=language,
        body=prompt("sms_changed", language, business=client.business_name,
                    before=short_when(to_local(client, previous.starts_at), language),
                    when=short_when(to_local(client, appointment.starts_at), language),
                    code=appointment.confirmation_code))


def queue_cancellation(appointment: Appointment, client: Client, language: str,
                       caller: str | None = None, call_sid: str | None = None) -> Message:
    """The text saying a caller cancelled `appointment` by phone, in the call's language."""
    return _queue_text(
        appointment, client, caller, purpose="cancellation", language=language,
        call_sid=call_sid,
        body=prompt("sms_call_cancelled", language, business=client.business_name,
                    when=short_when(to_local(client, appointment.starts_at), language)))


def _queue_text(appointment: Appointment, client: Client, caller: str | None, *, purpose: str,
                language: str, body: str, call_sid: str | None = None) -> Message:
    """One text per appointment and purpose (`<purpose>:<appointment id>`), to the appointment's
    phone: checked by the policy and recorded, handed to the outbox after commit, or kept
    refused with the reason."""
    key = f"{purpose}:{appointment.id}"
    existing = db.session.scalar(sa.select(Message).where(Message.dedupe_key == key))
    if existing is not None:
        return existing
    message = Message(
        dedupe_key=key, client_id=client.id, appointment_id=appointment.id,
        call_sid=call_sid or appointment.call_sid, channel="sms", direction="outbound",
        from_number=client.ringlypro_number, to_number=appointment.customer_phone, body=body,
        language=language, purpose=purpose, status="queued", caller_number=caller,
    )
    refusal = policy.check_text(client, message.to_number, caller)
    db.session.add(message)
    if refusal is not None:
        policy.refuse(message, refusal)
        return message
    db.session.flush()
    send_after_commit(message.id)
    return message


def _already_sent(message: Message) -> SentMessage | None:
    """The text Twilio accepted for this message, if an earlier attempt's answer was lost."""
    taken = set(db.session.scalars(
        sa.select(Message.sid).where(Message.to_number == message.to_number,
                                     Message.sid.is_not(None))))
    for candidate in get_gateway().find_messages(to=message.to_number, from_=message.from_number):
        if candidate.body == message.body and candidate.sid not in taken:
            return candidate
    return None


def send_message(message_id: int) -> None:
    """Send one recorded text; a sent one is never sent again. Commits its outcome."""
    # The row lock makes the sender thread's task and the sweep's wait for each other; the
    # second one then finds the text sent and stops.
    message = db.session.get(Message, message_id, with_for_update=True)
    if message is None or message.status in NEVER_SENT:
        db.session.rollback()
        return
    logs.bind(client_id=message.client_id)
    refusal = check_client_destination(message.to_number,
                                       message.client.country if message.client else None)
    if refusal is not None:
        # Recorded before the policy existed, or the allowed countries have changed since.
        policy.refuse(message, refusal)
        db.session.commit()
        return
    message.attempts = (message.attempts or 0) + 1
    gateway = get_gateway()
    status_url = current_app.config["WEBHOOK_BASE_URL"] + STATUS_CALLBACK_PATH
    try:
        # A send whose answer was lost may have gone out: look before texting a second time.
        sent = _already_sent(message) if message.status == "unknown" else None
        if sent is None:
            # Through the Messaging Service when there is one (carriers filter texts from
            # unregistered local numbers), still From the business's number the caller knows.
            sent = gateway.send_sms(
                to=message.to_number, from_=message.from_number, body=message.body,
                status_callback=status_url,
                messaging_service_sid=current_app.config.get("TWILIO_MESSAGING_SERVICE_SID"))
    except TransientTelephonyError as exc:
        message.error_code = exc.twilio_code
        message.error_message = str(exc)[:500]
        if message.attempts >= MAX_SEND_ATTEMPTS:
            message.status = "failed"
            report_failure(message)
            db.session.commit()
            log.error("giving up on message %s after %d attempts", message.id, message.attempts)
            return
        # Once the outcome is unknown it stays so until a lookup settles it.
        message.status = "unknown" if exc.outcome_unknown or message.status == "unknown" \
            else "retrying"
        # Capped: a day-long Retry-After would outlive the broker's visibility timeout.
        delay = retry_delay(exc.retry_after or min(300.0, 5.0 * 2 ** (message.attempts - 1)))
        db.session.commit()
        raise SendLater(delay) from exc
    except PermanentTelephonyError as exc:
        message.status = "failed"
        message.error_code = exc.twilio_code
        message.error_message = str(exc)[:500]
        report_failure(message)
        db.session.commit()
        log.warning("message %s failed permanently: %s", message.id, exc)
        return
    message.sid = sent.sid
    message.status = "sent"
    message.error_code = None
    message.error_message = None
    message.sent_at = utcnow()
    db.session.commit()
    metrics.count_text("sent")


def record_delivery_status(form: Mapping[str, str]) -> bool:
    """Apply a message status callback to the message Ringly sent; True when it changed."""
    sid, status = form.get("MessageSid") or form.get("SmsSid"), form.get("MessageStatus")
    if not sid or status not in STATUS_ORDER:
        return False
    message = db.session.scalar(
        sa.select(Message).where(Message.sid == sid).with_for_update())
    if message is None or STATUS_ORDER[status] <= STATUS_ORDER.get(message.status or "", -1):
        db.session.rollback()
        return False
    message.status = status
    if form.get("ErrorCode"):
        message.error_code = whole_number(form["ErrorCode"])
        message.error_message = f"Twilio reported {status} (error {form['ErrorCode']})"
    if status in ("failed", "undelivered"):
        report_failure(message)
    db.session.commit()
    return True


def report_failure(message: Message) -> None:
    """message.failed, in the transaction that records the failure: a text that will not reach
    its number (Twilio refused it, gave up on it, or the retries ran out)."""
    metrics.count_text("failed")
    events.emit("message.failed", {
        "message_id": message.id, "client_id": message.client_id,
        "appointment_id": message.appointment_id, "purpose": message.purpose,
        "to": message.to_number, "status": message.status, "error_code": message.error_code,
        "error_message": message.error_message}, client_id=message.client_id)
