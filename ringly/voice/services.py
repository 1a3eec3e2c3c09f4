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
from ringly.telephony.twiml import to_text
from ringly.text import address, plain_text, whole_number
from ringly.voice import conversation, flow, returning
from ringly.voice.call_rows import RawStatement, TurnTransaction, client_from_row, turn_transaction
from ringly.voice.conversation import Ctx, Reply, Turn
from ringly.voice.flow import Scene
from ringly.voice.models import CALL_STATUSES, FINAL_STATUSES, Call
from ringly.voice.tts import audio_library

log = logging.getLogger(__name__)
CALLS = Call.__table__
# What a turn keeps of the caller's keys and words: a gather takes at most 20 digits, and a
# spoken answer (a name, a time) is a few words.
MAX_DIGITS, MAX_SPEECH = 32, 300
# The transcript kept in the call's state (the operator's console shows it): the latest turns,
# each line cut to a length no prompt reaches. A call's turns are bounded by the flow anyway.
TRANSCRIPT_TURNS, TRANSCRIPT_TEXT = 60, 600

# The webhooks are the hot path: each turn is one read and one write, committed once, on a
# connection of the turn's own, with statements compiled once and run on its DBAPI cursor (see
# ringly/voice/call_rows.py): through the ORM session they cost more CPU than the database
# spent on them.
CLIENTS = Client.__table__
_ENTRY_ROW = RawStatement(sa.select(
    *CLIENTS.c,
    # The caller's language on their last call to this client, remembered for this one.
    sa.select(CALLS.c.language)
    .where(CALLS.c.from_number == sa.bindparam("caller"), CALLS.c.client_id == CLIENTS.c.id,
           CALLS.c.language.is_not(None))
    .order_by(CALLS.c.id.desc()).limit(1).correlate(CLIENTS).scalar_subquery(),
    returning.UPCOMING_START,
).where(CLIENTS.c.ringlypro_number == sa.bindparam("to")))
_STEP_ROW = RawStatement(
    sa.select(CALLS.c.id, CALLS.c.step, CALLS.c.state, CALLS.c.language, CALLS.c.from_number,
              *CLIENTS.c)
    .join(CLIENTS, CALLS.c.client_id == CLIENTS.c.id)
    .where(CALLS.c.call_sid == sa.bindparam("sid")).with_for_update(of=CALLS)
)
_STORED = ("state", "step", "retries")
_INSERT_CALL = RawStatement(CALLS.insert().inline(), column_keys=(
    "call_sid", "client_id", "from_number", "to_number", "direction", "status", "language",
    "started_at", "created_at", "updated_at", *_STORED))
_UPDATE_CALL = RawStatement(CALLS.update().where(CALLS.c.id == sa.bindparam("call_id")),
                            column_keys=(*_STORED, "updated_at"))
_UPDATE_CALL_LANGUAGE = RawStatement(CALLS.update().where(CALLS.c.id == sa.bindparam("call_id")),
                                     column_keys=(*_STORED, "updated_at", "language"))
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
    if not called:
        return _unknown_number()
    try:
        with turn_transaction() as turn:
            now = utcnow()
            row = turn.first(_ENTRY_ROW, {"to": called, "caller": caller, "now": now})
            client = client_from_row(row[:-2]) if row is not None else None
            if client is None or not client.active or not client.rachel_enabled:
                turn.rollback()
                return _unknown_number()
            remembered, upcoming = row[-2:]
            logs.bind(client_id=client.id)
            metrics.count_webhook_turn("entry")
            warm_up_in_background()
            ctx = _ctx(call_sid, caller, {}, client,
                       remembered or client.default_language or "en", 1, now)
            if remembered:
                ctx.state["remembered_language"] = remembered
            if upcoming is not None:
                ctx.state["upcoming"] = upcoming.isoformat()
            values = _stored(ctx, conversation.start(ctx), 1, "entry", None)
            turn.commit_with(_INSERT_CALL, {
                "call_sid": call_sid, "client_id": client.id, "from_number": caller,
                "to_number": called, "direction": plain_text(form.get("Direction"), 16) or None,
                "status": form.get("CallStatus"), "language": remembered, "started_at": now,
                "created_at": now, "updated_at": now, **values})
    except IntegrityError:
        # Twilio asked twice: answer with what the first request got (nothing new is stored).
        return _replay_or_current(call_sid)
    return ctx.state["last_twiml"]


def answer_step(step: str, turn: int, form: Mapping[str, str]) -> str:
    """One caller turn. Only the stored state counts; the URL's step and turn spot replays."""
    call_sid = form.get("CallSid", "")
    with turn_transaction() as call_turn:
        row = call_turn.first(_STEP_ROW, {"sid": call_sid})
        if row is not None:
            logs.bind(client_id=row[5])  # the client's id, the first of its columns
            if step == row[1] and turn == _turn_of(row[2]):
                return _take_turn(call_turn, row, step, form)
        call_turn.rollback()  # nothing to write: let the row go without a durable commit
    if row is None:
        # A call we never greeted (state lost or a forged sid): start it properly.
        return answer_entry(form)
    return _replay_or_current(call_sid)


def _turn_of(state: dict[str, Any] | None) -> int:
    return int((state or {}).get("turn", 0))


def _take_turn(call_turn: TurnTransaction, row: tuple, step: str, form: Mapping[str, str]) -> str:
    call_id, _, state, language, caller = row[:5]
    client = client_from_row(row[5:])
    metrics.count_webhook_turn(step)
    current = _turn_of(state)
    ctx = _ctx(call_sid=form.get("CallSid", ""), caller=caller, state=state, client=client,
               locale=language or client.default_language or "en", turn=current + 1,
               now=utcnow())
    handler = conversation.HANDLERS.get(step)
    digits, speech = (plain_text(form.get("Digits"), MAX_DIGITS),
                      plain_text(form.get("SpeechResult"), MAX_SPEECH))
    if step == "voicemail":
        reply = _voicemail(ctx, client.id, form)
    elif handler is None:
        reply = Reply(None, flow.finish(ctx.scene, [ctx.scene.line("goodbye_no_answer")]))
    else:
        reply = handler(ctx, Turn(digits, speech, dict(form)))
    heard = (f"pressed {digits}" if digits else speech) or \
        ("(a recording)" if step == "voicemail" and form.get("RecordingUrl") else "(nothing)")
    values = _stored(ctx, reply, current + 1, step, heard)
    update = _UPDATE_CALL
    if reply.language:
        values["language"] = reply.language
        update = _UPDATE_CALL_LANGUAGE
    # Anything else the turn wrote through the session (a booking, a text) is flushed before
    # the commit, in the same transaction as the call's row.
    call_turn.commit_with(update, {"call_id": call_id, "updated_at": ctx.now, **values})
    return ctx.state["last_twiml"]


def _unknown_number() -> str:
    return to_text(flow.bilingual_goodbye(_scene("en", 0), "unknown_number"))


def _replay_or_current(call_sid: str) -> str:
    """A repeated or stale request gets the call's latest document again: the same answer for a
    replay, the current question for anything older; nothing is recorded twice."""
    state = db.session.scalar(_STATE_QUERY, {"sid": call_sid})
    last = (state or {}).get("last_twiml")
    return last or _unknown_number()


def _stored(ctx: Ctx, reply: Reply, turn: int, step: str, heard: str | None) -> dict[str, Any]:
    """The call's columns after this turn: its state (with the document just served, for
    replays, and the turn in the transcript), the step it now waits in, and how many re-prompts
    it has used."""
    ctx.state["turn"] = turn
    ctx.state["last_twiml"] = to_text(reply.response)
    transcript = list(ctx.state.get("transcript") or ())[-(TRANSCRIPT_TURNS - 1):]
    transcript.append({"step": step, "caller": heard,
                       "ringly": " ".join(ctx.scene.said)[:TRANSCRIPT_TEXT]})
    ctx.state["transcript"] = transcript
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
