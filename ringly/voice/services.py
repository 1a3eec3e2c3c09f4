"""Call state by CallSid: each webhook loads the call, runs one step, stores the result once."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from ringly import events, logs, metrics
from ringly.booking.understanding import warm_up_in_background
from ringly.clients.models import Client
from ringly.clients.services import client_by_number
from ringly.db import db, utcnow
from ringly.messaging.services import store_voicemail
from ringly.text import address, plain_text, whole_number
from ringly.voice import conversation, flow, returning
from ringly.voice.conversation import Ctx, Reply, Turn
from ringly.voice.flow import Scene
from ringly.voice.models import CALL_STATUSES, FINAL_STATUSES, Call
from ringly.voice.tts import audio_library

log = logging.getLogger(__name__)
CALLS = Call.__table__
# What a turn keeps of the caller's keys and words: a gather takes at most 20 digits, and a
# spoken answer (a name, a time) is a few words.
MAX_DIGITS, MAX_SPEECH = 32, 300

# The webhooks are the hot path: each is one read and one write, committed once. The statements
# are built once (building and keying a statement per request cost more CPU than the turn
# itself) and the call row is written with Core, not the ORM's unit of work.
_ENTRY_QUERY = sa.select(
    Client,
    # The caller's language on their last call to this client, remembered for this one.
    sa.select(CALLS.c.language)
    .where(CALLS.c.from_number == sa.bindparam("caller"), CALLS.c.client_id == Client.id,
           CALLS.c.language.is_not(None))
    .order_by(CALLS.c.id.desc()).limit(1).correlate(Client).scalar_subquery(),
    returning.UPCOMING_START,
).where(Client.ringlypro_number == sa.bindparam("to"))
_INSERT_CALL = CALLS.insert()
_STEP_QUERY = (
    sa.select(CALLS.c.id, CALLS.c.step, CALLS.c.state, CALLS.c.language, CALLS.c.from_number,
              Client)
    .join(Client, CALLS.c.client_id == Client.id)
    .where(CALLS.c.call_sid == sa.bindparam("sid")).with_for_update(of=CALLS)
)
_UPDATE_CALL = CALLS.update().where(CALLS.c.id == sa.bindparam("call_id"))
_STATE_QUERY = sa.select(CALLS.c.state).where(CALLS.c.call_sid == sa.bindparam("sid"))


def _scene(locale: str, turn: int, client: Client | None = None) -> Scene:
    # Fixed lines and the client's own lines may be ElevenLabs audio; a caller's data is Polly's.
    voice = audio_library().voice_for(client)
    return Scene(locale, current_app.config["WEBHOOK_BASE_URL"], turn, voice)


def _ctx(call_sid: str, caller: str | None, state: dict[str, Any], client: Client, locale: str,
         turn: int, now: datetime) -> Ctx:
    base = current_app.config["WEBHOOK_BASE_URL"]
    persona = flow.PERSONA[locale]
    return Ctx(client=client, caller=caller, call_sid=call_sid, state=dict(state or {}),
               scene=_scene(locale, turn, client), now=now,
               transcription_url=f"{base}/voice/{persona}/transcription")


def answer_entry(form: Mapping[str, str]) -> str:
    """The first webhook of a call: the language menu, or the greeting in a known language.

    One query (the client, the caller's last language and their next appointment with the
    client) and one insert.
    """
    call_sid, caller, called = form.get("CallSid", ""), address(form.get("From")), \
        address(form.get("To"))
    now = utcnow()
    row = db.session.execute(_ENTRY_QUERY, {"to": called, "caller": caller, "now": now}).first() \
        if called else None
    if row is None or not row[0].active or not row[0].rachel_enabled:
        db.session.rollback()
        return str(flow.bilingual_goodbye(_scene("en", 0), "unknown_number"))
    client, remembered, upcoming = row
    logs.bind(client_id=client.id)
    metrics.count_webhook_turn("entry")
    warm_up_in_background()
    ctx = _ctx(call_sid, caller, {}, client, remembered or client.default_language or "en", 1,
               now)
    if remembered:
        ctx.state["remembered_language"] = remembered
    if upcoming is not None:
        ctx.state["upcoming"] = upcoming.isoformat()
    values = _stored(ctx, conversation.start(ctx), 1)
    try:
        db.session.execute(_INSERT_CALL, {
            "call_sid": call_sid, "client_id": client.id, "from_number": caller,
            "to_number": called, "direction": plain_text(form.get("Direction"), 16) or None,
            "status": form.get("CallStatus"), "language": remembered, "started_at": now,
            "created_at": now, "updated_at": now, **values})
        db.session.commit()
    except IntegrityError:
        # Twilio asked twice: answer with what the first request got (nothing new is stored).
        db.session.rollback()
        return _replay_or_current(call_sid)
    return ctx.state["last_twiml"]


def answer_step(step: str, turn: int, form: Mapping[str, str]) -> str:
    """One caller turn. Only the stored state counts; the URL's step and turn spot replays."""
    call_sid = form.get("CallSid", "")
    row = db.session.execute(_STEP_QUERY, {"sid": call_sid}).first()
    if row is None:
        db.session.rollback()
        # A call we never greeted (state lost or a forged sid): start it properly.
        return answer_entry(form)
    call_id, stored_step, state, language, caller, client = row
    logs.bind(client_id=client.id)
    current = int((state or {}).get("turn", 0))
    if turn != current or step != stored_step:
        db.session.rollback()
        return _replay_or_current(call_sid)
    metrics.count_webhook_turn(stored_step)
    ctx = _ctx(call_sid, caller, state, client, language or client.default_language or "en",
               current + 1, utcnow())
    handler = conversation.HANDLERS.get(step)
    if step == "voicemail":
        reply = _voicemail(ctx, client.id, form)
    elif handler is None:
        reply = Reply(None, flow.finish(ctx.scene, [ctx.scene.line("goodbye_no_answer")]))
    else:
        reply = handler(ctx, Turn(plain_text(form.get("Digits"), MAX_DIGITS),
                                  plain_text(form.get("SpeechResult"), MAX_SPEECH), dict(form)))
    values = _stored(ctx, reply, current + 1)
    if reply.language:
        values["language"] = reply.language
    db.session.execute(_UPDATE_CALL, {"call_id": call_id, "updated_at": ctx.now, **values})
    db.session.commit()
    return ctx.state["last_twiml"]


def _replay_or_current(call_sid: str) -> str:
    """A repeated or stale request gets the call's latest document again: the same answer for a
    replay, the current question for anything older; nothing is recorded twice."""
    state = db.session.scalar(_STATE_QUERY, {"sid": call_sid})
    last = (state or {}).get("last_twiml")
    return last or str(flow.bilingual_goodbye(_scene("en", 0), "unknown_number"))


def _stored(ctx: Ctx, reply: Reply, turn: int) -> dict[str, Any]:
    """The call's columns after this turn: its state (with the document just served, for
    replays), the step it now waits in, and how many re-prompts it has used."""
    ctx.state["turn"] = turn
    ctx.state["last_twiml"] = str(reply.response)
    return {"state": ctx.state, "step": reply.step or "ended",
            "retries": sum((ctx.state.get("attempts") or {}).values())}


def _voicemail(ctx: Ctx, client_id: int, form: Mapping[str, str]) -> Reply:
    if not form.get("RecordingUrl"):
        return Reply(None, flow.finish(ctx.scene, [ctx.scene.line("voicemail_empty")]))
    store_voicemail(client_id, ctx.call_sid, form, ctx.locale)
    return Reply(None, flow.finish(ctx.scene, [ctx.scene.line("voicemail_thanks")]))


def store_transcription(form: Mapping[str, str]) -> None:
    """A voicemail's transcription, kept with the recording of the call it was left on."""
    call_sid = form.get("CallSid", "")
    if not form.get("TranscriptionText") or not call_sid:
        return
    call = db.session.scalar(sa.select(Call).where(Call.call_sid == call_sid))
    store_voicemail(call.client_id if call else None, call_sid, form,
                    call.language if call else None)
    db.session.commit()


def apply_status(form: Mapping[str, str]) -> None:
    """A call status callback: applied once, in order, and never undoing a final status."""
    call_sid = form.get("CallSid")
    if not call_sid:
        return
    call = db.session.scalar(sa.select(Call).where(Call.call_sid == call_sid).with_for_update())
    if call is None:
        client = client_by_number(form.get("To"))
        call = Call(call_sid=call_sid, client_id=client.id if client else None,
                    from_number=address(form.get("From")), to_number=address(form.get("To")),
                    direction=plain_text(form.get("Direction"), 16) or None, state={})
        db.session.add(call)
    sequence = whole_number(form.get("SequenceNumber"))
    if sequence is not None and call.last_sequence is not None and sequence <= call.last_sequence:
        db.session.rollback()
        return
    # Only Twilio's own statuses are kept; anything else changes no status.
    status = form.get("CallStatus") if form.get("CallStatus") in CALL_STATUSES else None
    if call.status in FINAL_STATUSES and status not in FINAL_STATUSES:
        db.session.rollback()
        return
    if sequence is not None:
        call.last_sequence = sequence
    call.status = status or call.status
    duration = whole_number(form.get("CallDuration"))
    if duration is not None:
        call.duration_seconds = duration
    price = _decimal(form.get("Price") or form.get("CallPrice"))
    if price is not None:
        call.price = abs(price)
        call.price_unit = (form.get("PriceUnit") or "USD")[:3]
    if status in FINAL_STATUSES and call.ended_at is None:
        call.ended_at = _timestamp(form.get("Timestamp")) or utcnow()
        events.emit("call.completed", _call_event(call), client_id=call.client_id)
    db.session.commit()


def _call_event(call: Call) -> dict[str, Any]:
    """call.completed's data: how the call ended (any final status), who called, how long."""
    return {"call_sid": call.call_sid, "client_id": call.client_id, "status": call.status,
            "from": call.from_number, "to": call.to_number, "direction": call.direction,
            "duration_seconds": call.duration_seconds, "language": call.language,
            "started_at": call.started_at, "ended_at": call.ended_at}


def _decimal(raw: Any) -> Decimal | None:
    """A price as `calls.price` (10 digits, 4 after the point) can hold it, else None."""
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        return None
    return value if value.is_finite() and abs(value) < 10**6 else None


def _timestamp(raw: str | None) -> datetime | None:
    try:
        return parsedate_to_datetime(raw) if raw else None
    except (TypeError, ValueError):
        return None
