"""Outbound texts: recorded first (one per purpose), then sent by a task through the gateway."""
from __future__ import annotations

import logging

import sqlalchemy as sa

from ringly.db import db, utcnow
from ringly.messaging.models import Message
from ringly.queue import enqueue_after_commit
from ringly.telephony import PermanentTelephonyError, TransientTelephonyError, get_gateway
from ringly.voice.prompts import prompt, short_when

log = logging.getLogger(__name__)

SEND_MESSAGE_TASK = "ringly.messaging.send_message"
MAX_SEND_ATTEMPTS = 6


class SendLater(Exception):
    """A transient failure: the task retries after `delay` seconds."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"retry in {delay:.0f} s")
        self.delay = delay


def queue_confirmation(appointment, client) -> Message:  # noqa: ANN001 (models import cycle)
    """Record the booking's confirmation text in this transaction; it is sent after commit."""
    key = f"confirmation:{appointment.id}"
    existing = db.session.scalar(sa.select(Message).where(Message.dedupe_key == key))
    if existing is not None:
        return existing
    from ringly.booking.slots import to_local

    body = prompt("sms_confirmation", appointment.language,
                  business=client.business_name,
                  when=short_when(to_local(client, appointment.starts_at), appointment.language),
                  code=appointment.confirmation_code)
    message = Message(
        dedupe_key=key, client_id=client.id, appointment_id=appointment.id,
        call_sid=appointment.call_sid, channel="sms", direction="outbound",
        from_number=client.ringlypro_number, to_number=appointment.customer_phone, body=body,
        language=appointment.language, purpose="confirmation", status="queued",
    )
    db.session.add(message)
    db.session.flush()
    enqueue_after_commit(SEND_MESSAGE_TASK, message.id)
    return message


def send_message(message_id: int) -> None:
    """Send one recorded text; a sent one is never sent again. Commits its outcome."""
    message = db.session.get(Message, message_id, with_for_update=True)
    if message is None or message.status in ("sent", "delivered", "failed"):
        db.session.rollback()
        return
    message.attempts = (message.attempts or 0) + 1
    status_url = None
    try:
        sent = get_gateway().send_sms(to=message.to_number, from_=message.from_number,
                                      body=message.body, status_callback=status_url)
    except TransientTelephonyError as exc:
        message.error_code = exc.twilio_code
        message.error_message = str(exc)[:500]
        if message.attempts >= MAX_SEND_ATTEMPTS:
            message.status = "failed"
            db.session.commit()
            log.error("giving up on message %s after %d attempts", message.id, message.attempts)
            return
        message.status = "retrying"
        delay = exc.retry_after or min(300.0, 5.0 * 2 ** (message.attempts - 1))
        db.session.commit()
        raise SendLater(delay) from exc
    except PermanentTelephonyError as exc:
        message.status = "failed"
        message.error_code = exc.twilio_code
        message.error_message = str(exc)[:500]
        db.session.commit()
        log.warning("message %s failed permanently: %s", message.id, exc)
        return
    message.sid = sent.sid
    message.status = "sent"
    message.error_code = None
    message.error_message = None
    message.sent_at = utcnow()
    db.session.commit()
