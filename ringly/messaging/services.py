"""Messages in: voicemails left on calls, and texts answered with CONFIRM / CANCEL / help."""
from __future__ import annotations

import re
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ringly.booking import services as booking
from ringly.booking.slots import to_local
from ringly.clients.services import client_by_number
from ringly.db import db, newest_first
from ringly.messaging import policy
from ringly.messaging.models import Message
from ringly.text import address, normalise, plain_text, whole_number
from ringly.wording import prompt, short_when

# Twilio joins a long text into one Body of at most 1600 characters; transcriptions are of
# recordings of at most 120 s.
MAX_SMS_BODY, MAX_TRANSCRIPTION = 1600, 5000
CANCEL_WORDS = {"cancel", "cancelar", "stop cita"}
CONFIRM_WORDS = {"confirm", "confirmar", "confirmo", "yes", "si"}
SPANISH_HINTS = {"hola", "gracias", "cita", "quiero", "por", "favor", "cancelar", "confirmar",
                 "si", "que", "cuando", "manana", "buenos", "dias", "para", "una", "mi", "el",
                 "la", "de", "necesito", "ayuda", "horario"}


def store_voicemail(client_id: int | None, call_sid: str, form: Mapping[str, str],
                    language: str | None) -> Message:
    """Keep a recording once per call, however often (and in whatever order) Twilio posts the
    recording and its transcription."""
    key = f"voicemail:{call_sid}"
    message = db.session.scalar(sa.select(Message).where(Message.dedupe_key == key))
    if message is None:
        message = Message(dedupe_key=key, client_id=client_id, call_sid=call_sid,
                          channel="voicemail", direction="inbound", status="received",
                          from_number=address(form.get("From")),
                          to_number=address(form.get("To")), language=language)
        db.session.add(message)
    message.sid = message.sid or form.get("RecordingSid")
    message.recording_url = message.recording_url or form.get("RecordingUrl")
    message.recording_duration = message.recording_duration or whole_number(
        form.get("RecordingDuration"))
    message.transcription = message.transcription or plain_text(
        form.get("TranscriptionText"), MAX_TRANSCRIPTION) or None
    message.language = message.language or language
    db.session.flush()
    return message


def store_fallback_voicemail(form: Mapping[str, str]) -> None:
    client = client_by_number(form.get("To"))
    store_voicemail(client.id if client else None, form.get("CallSid", ""), form, "en")
    db.session.commit()


def is_spanish(text: str) -> bool:
    """Simple on purpose: accents or ¿¡, or common Spanish words, mean Spanish."""
    if re.search(r"[ñáéíóú¿¡]", text.lower()):
        return True
    return bool(set(normalise(text).split()) & SPANISH_HINTS)


def answer_sms(form: Mapping[str, str]) -> str:
    """Store an inbound text, act on CANCEL/CONFIRM, and return the reply text (same reply on a
    replay, with nothing done twice). The reply is an outbound text like any other: when the
    messaging policy refuses it (a short code, a Ringly number, too many replies) it is stored
    as refused and the answer is empty."""
    sid = form.get("MessageSid") or form.get("SmsSid")
    body = plain_text(form.get("Body"), MAX_SMS_BODY)
    if sid:
        earlier = db.session.scalar(sa.select(Message).where(Message.dedupe_key == f"reply:{sid}"))
        if earlier is not None:
            return "" if earlier.status == "refused" else earlier.body or ""
    language = "es" if is_spanish(body) else "en"
    client = client_by_number(form.get("To"))
    client_id = client.id if client else None
    inbound = Message(sid=sid, client_id=client_id, channel="sms", direction="inbound",
                      from_number=address(form.get("From")), to_number=address(form.get("To")),
                      body=body,
                      language=language, status="received")
    command = normalise(body)
    appointment = booking.next_appointment(client.id, form.get("From", "")) if client else None
    if command in CANCEL_WORDS or command in CONFIRM_WORDS:
        if appointment is None:
            reply = prompt("sms_no_appointment", language)
        else:
            when = short_when(to_local(client, appointment.starts_at), language)
            if command in CANCEL_WORDS:
                booking.cancel(appointment)
                reply = prompt("sms_cancelled", language, when=when)
            else:
                booking.confirm(appointment)
                reply = prompt("sms_confirmed", language, when=when)
            inbound.appointment_id = appointment.id
    else:
        reply = prompt("sms_help", language)
    sender = address(form.get("From"))
    refusal = policy.check_text(client, sender, sender, auto_reply=True)
    outbound = Message(dedupe_key=f"reply:{sid}" if sid else None, client_id=client_id,
                       channel="sms", direction="outbound", from_number=address(form.get("To")),
                       to_number=sender, body=reply, language=language,
                       purpose="reply", status="sent", caller_number=sender,
                       appointment_id=inbound.appointment_id)
    try:
        db.session.add_all([inbound, outbound])
        if refusal is not None:
            policy.refuse(outbound, refusal)
        db.session.commit()
    except IntegrityError:
        # The same MessageSid raced in twice: the first one acted; answer like it did.
        db.session.rollback()
    return "" if refusal is not None else reply


def list_messages(client_id: int, limit: int, before_id: int | None = None) -> list[Message]:
    """Newest first: up to `limit` messages older than `before_id` (the previous page's last)."""
    query = sa.select(Message).where(Message.client_id == client_id)
    return list(db.session.scalars(newest_first(query, Message.id, limit, before_id)))
