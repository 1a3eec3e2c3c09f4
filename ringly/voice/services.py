"""Call state by CallSid: each webhook loads the call, runs one step, stores the result once."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified

from ringly.booking.understanding import warm_up_in_background
from ringly.clients.models import Client
from ringly.db import db, utcnow
from ringly.voice import conversation, flow
from ringly.voice.conversation import Ctx, Reply, Turn
from ringly.voice.flow import Scene
from ringly.voice.models import FINAL_STATUSES, Call
from ringly.voice.tts import audio_library

log = logging.getLogger(__name__)



def _scene(locale: str, turn: int) -> Scene:
    library = audio_library()
    return Scene(locale, current_app.config["WEBHOOK_BASE_URL"], turn, library.audio_url)


def _ctx(call: Call, client: Client, locale: str, turn: int) -> Ctx:
    base = current_app.config["WEBHOOK_BASE_URL"]
    persona = flow.PERSONA[locale]
    return Ctx(client=client, caller=call.from_number, call_sid=call.call_sid,
               state=dict(call.state or {}), scene=_scene(locale, turn), now=utcnow(),
               transcription_url=f"{base}/voice/{persona}/transcription")


def answer_entry(form: Mapping[str, str]) -> str:
    """The first webhook of a call: the language menu, or the greeting in a known language.

    One query (the client and the caller's last language) and one insert: this is the hot path.
    """
    call_sid, caller = form.get("CallSid", ""), form.get("From")
    last_language = (
        sa.select(Call.language)
        .where(Call.from_number == caller, Call.client_id == Client.id,
               Call.language.is_not(None))
        .order_by(Call.id.desc()).limit(1).correlate(Client).scalar_subquery()
    )
    row = db.session.execute(
        sa.select(Client, last_language).where(Client.ringlypro_number == form.get("To"))
    ).first() if form.get("To") else None
    if row is None or not row[0].active or not row[0].rachel_enabled:
        db.session.rollback()
        return str(flow.bilingual_goodbye(_scene("en", 0), "unknown_number"))
    client, remembered = row
    warm_up_in_background()
    call = Call(call_sid=call_sid, client_id=client.id, from_number=caller,
                to_number=form.get("To"), direction=form.get("Direction"),
                status=form.get("CallStatus"), language=remembered, started_at=utcnow())
    ctx = _ctx(call, client, remembered or client.default_language or "en", 1)
    if remembered:
        ctx.state["remembered_language"] = remembered
    _store(call, ctx, conversation.start(ctx), 1)
    db.session.add(call)
    try:
        db.session.commit()
    except IntegrityError:
        # Twilio asked twice: answer with what the first request got (nothing new is stored).
        db.session.rollback()
        return _replay_or_current(call_sid)
    return ctx.state["last_twiml"]


def answer_step(step: str, turn: int, form: Mapping[str, str]) -> str:
    """One caller turn. Only the stored state counts; the URL's step and turn spot replays."""
    call_sid = form.get("CallSid", "")
    row = db.session.execute(
        sa.select(Call, Client).join(Client, Call.client_id == Client.id)
        .where(Call.call_sid == call_sid).with_for_update(of=Call)
    ).first()
    if row is None:
        db.session.rollback()
        # A call we never greeted (state lost or a forged sid): start it properly.
        return answer_entry(form)
    call, client = row
    current = int((call.state or {}).get("turn", 0))
    if turn != current or step != call.step:
        db.session.rollback()
        return _replay_or_current(call_sid)
    ctx = _ctx(call, client, call.language or client.default_language or "en", current + 1)
    handler = conversation.HANDLERS.get(step)
    if step == "voicemail":
        reply = _voicemail(ctx, call, form)
    elif handler is None:
        reply = Reply(None, flow.finish(ctx.scene, [ctx.scene.line("goodbye_no_answer")]))
    else:
        reply = handler(ctx, Turn(form.get("Digits", ""), form.get("SpeechResult", ""),
                                  dict(form)))
    if reply.language:
        call.language = reply.language
    _store(call, ctx, reply, current + 1)
    db.session.commit()
    return ctx.state["last_twiml"]


def _replay_or_current(call_sid: str) -> str:
    """A repeated or stale request gets the call's latest document again: the same answer for a
    replay, the current question for anything older; nothing is recorded twice."""
    call = db.session.scalar(sa.select(Call).where(Call.call_sid == call_sid))
    last = (call.state or {}).get("last_twiml") if call is not None else None
    return last or str(flow.bilingual_goodbye(_scene("en", 0), "unknown_number"))


def _store(call: Call, ctx: Ctx, reply: Reply, turn: int) -> None:
    ctx.state["turn"] = turn
    ctx.state["last_twiml"] = str(reply.response)
    call.state = ctx.state
    flag_modified(call, "state")
    call.step = reply.step or "ended"
    call.retries = sum((ctx.state.get("attempts") or {}).values())


def _voicemail(ctx: Ctx, call: Call, form: Mapping[str, str]) -> Reply:
    from ringly.messaging.services import store_voicemail

    if not form.get("RecordingUrl"):
        return Reply(None, flow.finish(ctx.scene, [ctx.scene.line("voicemail_empty")]))
    store_voicemail(call.client_id, call.call_sid, form, ctx.locale)
    return Reply(None, flow.finish(ctx.scene, [ctx.scene.line("voicemail_thanks")]))


def apply_status(form: Mapping[str, str]) -> None:
    """A call status callback: applied once, in order, and never undoing a final status."""
    call_sid = form.get("CallSid")
    if not call_sid:
        return
    call = db.session.scalar(sa.select(Call).where(Call.call_sid == call_sid).with_for_update())
    if call is None:
        client = db.session.scalar(
            sa.select(Client).where(Client.ringlypro_number == form.get("To")))
        call = Call(call_sid=call_sid, client_id=client.id if client else None,
                    from_number=form.get("From"), to_number=form.get("To"),
                    direction=form.get("Direction"), state={})
        db.session.add(call)
    sequence = _int(form.get("SequenceNumber"))
    if sequence is not None and call.last_sequence is not None and sequence <= call.last_sequence:
        db.session.rollback()
        return
    status = form.get("CallStatus")
    if call.status in FINAL_STATUSES and status not in FINAL_STATUSES:
        db.session.rollback()
        return
    if sequence is not None:
        call.last_sequence = sequence
    call.status = status or call.status
    duration = _int(form.get("CallDuration"))
    if duration is not None:
        call.duration_seconds = duration
    price = _decimal(form.get("Price") or form.get("CallPrice"))
    if price is not None:
        call.price = abs(price)
        call.price_unit = (form.get("PriceUnit") or "USD")[:3]
    if status in FINAL_STATUSES and call.ended_at is None:
        call.ended_at = _timestamp(form.get("Timestamp")) or utcnow()
    db.session.commit()


def _int(raw: Any) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _decimal(raw: Any) -> Decimal | None:
    if raw in (None, ""):
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        return None


def _timestamp(raw: str | None) -> datetime | None:
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(raw) if raw else None
    except (TypeError, ValueError):
        return None
