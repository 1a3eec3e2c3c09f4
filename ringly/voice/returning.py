"""A returning caller's upcoming appointment: read out after the greeting, then kept, changed or
cancelled by phone."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from twilio.twiml.voice_response import VoiceResponse

from ringly.booking import services as booking
from ringly.booking.models import HOLDING_STATUSES, Appointment
from ringly.booking.slots import to_local
from ringly.clients.models import Client
from ringly.messaging import outbound
from ringly.voice import flow
from ringly.voice.answers import key, yes_or_no
from ringly.voice.flow import Line
from ringly.wording import HINTS, spoken_code, spoken_when

# The caller's soonest upcoming appointment with the client called: its start, or NULL. Read
# with the client by the call's first webhook, so that turn stays one query; the soonest is
# the one offered when a caller holds several.
UPCOMING_START = (
    sa.select(Appointment.starts_at)
    .where(Appointment.client_id == Client.id,
           Appointment.customer_phone == sa.bindparam("caller"),
           Appointment.status.in_(HOLDING_STATUSES),
           Appointment.starts_at > sa.bindparam("now"))
    .order_by(Appointment.starts_at).limit(1).correlate(Client).scalar_subquery()
)

# What the caller may answer: by key (pressed or said: "three", "press two", "tres"), and by
# words (WORDS meanings) that name one answer only.
APPOINTMENT_KEYS = {"1": "keep", "2": "change", "3": "cancel"}
APPOINTMENT_WORDS = {"keep": ("keep",), "change": ("change",), "cancel": ("cancel",)}
CANCEL_KEYS = {"1": "cancel", "2": "keep"}
# "Keep" words include the negations, so "no, don't cancel" is never read as a yes to cancel.
CANCEL_WORDS = {"cancel": ("cancel",), "keep": ("keep",)}
# The cancel question is a yes or no: a yes ("yeah", "sure", "sí", "claro") cancels, a no
# ("nope", "no gracias") keeps, as at every "press 1 or say yes" question.
CANCEL_YES_NO = {True: "cancel", False: "keep"}


def upcoming(ctx: conversation.Ctx) -> datetime | None:
    """The start of the appointment this call announces (stored by the first webhook)."""
    stored = ctx.state.get("upcoming")
    return datetime.fromisoformat(stored) if stored else None


def after_greeting(ctx: conversation.Ctx, language: str | None = None) -> conversation.Reply:
    """The greeting, then the caller's upcoming appointment if they have one, else the menu."""
    step = "returning" if upcoming(ctx) else "intent"
    document = conversation.step_prompt(ctx, step, [conversation.greeting(ctx)])
    return conversation.Reply(step, document, language=language)


def step_prompt(ctx: conversation.Ctx, step: str, lines: list[Line]) -> VoiceResponse:
    """The question of one of this module's steps, after `lines`."""
    keys = {"returning": "upcoming_appointment", "cancel-confirm": "confirm_cancel"}
    if step not in keys:
        raise ValueError(f"no prompt for step {step!r}")
    question = ctx.scene.line(keys[step], when=_spoken(ctx, upcoming(ctx)))
    return flow.ask(ctx.scene, [*lines, question], step, hints=HINTS[step][ctx.locale])


def on_returning(ctx: conversation.Ctx, turn: conversation.Turn) -> conversation.Reply:
    """Keep (then the menu: the caller may have called for something else), change, cancel."""
    answer = _answer(ctx, turn, APPOINTMENT_KEYS, APPOINTMENT_WORDS)
    if answer is None:
        return conversation.reprompt(ctx, "returning", turn)
    if answer == "keep":
        return _menu(ctx, "appointment_kept")
    if answer == "cancel":
        return conversation.Reply("cancel-confirm", step_prompt(ctx, "cancel-confirm", []))
    appointment = _held(ctx, ctx.state["upcoming"])
    if appointment is None:
        return _menu(ctx, "appointment_gone")
    # The booking steps ask for the new time; their confirmation moves this appointment.
    ctx.state.update(name=appointment.customer_name, phone=appointment.customer_phone,
                     change_of=ctx.state["upcoming"])
    return conversation.Reply("book-time", conversation.step_prompt(
        ctx, "book-time", [ctx.scene.line("change_intro")]))


def on_cancel_confirm(ctx: conversation.Ctx, turn: conversation.Turn) -> conversation.Reply:
    answer = _answer(ctx, turn, CANCEL_KEYS, CANCEL_WORDS, CANCEL_YES_NO)
    if answer is None:
        return conversation.reprompt(ctx, "cancel-confirm", turn)
    if answer == "keep":
        return _menu(ctx, "appointment_kept")
    appointment = _held(ctx, ctx.state["upcoming"])
    if appointment is None:
        return _menu(ctx, "appointment_gone")
    booking.cancel_by_caller(appointment, call_sid=ctx.call_sid)
    text = outbound.queue_cancellation(appointment, ctx.client, ctx.locale, caller=ctx.caller,
                                       call_sid=ctx.call_sid)
    ctx.state["cancelled_id"] = appointment.id
    # A refused text (a limit reached) does not undo the cancellation; the caller is told.
    key = "appointment_cancelled_no_text" if text.status == "refused" else "appointment_cancelled"
    return conversation.Reply(None, flow.finish(ctx.scene, [
        ctx.scene.line(key, when=_spoken(ctx, appointment.starts_at))]))


def same_time(ctx: conversation.Ctx, asked: datetime | None) -> conversation.Reply | None:
    """While changing, the caller named the time they already have: nothing to move; the
    time is asked again. None when this is not that case."""
    change_of = ctx.state.get("change_of")
    if not change_of or asked is None or asked != datetime.fromisoformat(change_of):
        return None
    return conversation.Reply("book-time", conversation.step_prompt(ctx, "book-time", [
        ctx.scene.line("same_time_as_booked", when=_spoken(ctx, asked))]))


def confirm_change(ctx: conversation.Ctx, start: datetime) -> conversation.Reply:
    """The caller confirmed the new time of an appointment they are changing: book it and
    release the old one in this turn's one transaction; a taken time keeps the old one."""
    old = _held(ctx, ctx.state["change_of"])
    if old is None:
        return _menu(ctx, "appointment_gone")
    if start == old.starts_at:
        return conversation.Reply(None, flow.finish(ctx.scene, [
            ctx.scene.line("same_time_as_booked", when=_spoken(ctx, start)),
            ctx.scene.line("appointment_unchanged")]))
    try:
        moved = booking.reschedule(old, start, call_sid=ctx.call_sid, language=ctx.locale,
                                   now=ctx.now)
    except booking.SlotTaken:
        return conversation.offer(ctx, [ctx.scene.line("slot_just_taken")],
                                  booking.alternatives(ctx.client, start, ctx.now))
    text = outbound.queue_change_confirmation(moved, old, ctx.client, caller=ctx.caller)
    ctx.state["appointment_id"] = moved.id
    key = "appointment_changed_no_text" if text.status == "refused" else "appointment_changed"
    return conversation.Reply(None, flow.finish(ctx.scene, [ctx.scene.line(
        key, when=_spoken(ctx, moved.starts_at),
        code_spoken=spoken_code(moved.confirmation_code))]))


def _answer(ctx: conversation.Ctx, turn: conversation.Turn, by_key: dict[str, str],
            by_words: dict[str, tuple[str, ...]],
            by_yes_no: dict[bool, str] | None = None) -> str | None:
    """The one answer given: a key pressed or said ("three", "press two", "tres"), or words
    naming exactly one answer, a yes or a no among them where one is asked (`by_yes_no`):
    "don't cancel" names two and is asked again; None when there is none."""
    pressed = key(turn.digits, turn.speech)
    if pressed or turn.digits:
        return by_key.get(pressed)
    named = {answer for answer, meanings in by_words.items()
             if any(conversation.said(turn, meaning, ctx.locale) for meaning in meanings)}
    if by_yes_no is not None:
        reply = yes_or_no("", turn.speech, ctx.locale)
        if reply is not None:
            named.add(by_yes_no[reply])
    return named.pop() if len(named) == 1 else None


def _held(ctx: conversation.Ctx, starts_at: str) -> Appointment | None:
    """The caller's appointment at that time, locked, unless it was cancelled or moved (by a
    text, say) or has begun since the call started."""
    return booking.callers_appointment(ctx.client.id, ctx.caller,
                                       datetime.fromisoformat(starts_at), ctx.now)


def _menu(ctx: conversation.Ctx, key: str) -> conversation.Reply:
    return conversation.Reply("intent", conversation.step_prompt(
        ctx, "intent", [ctx.scene.line(key)]))


def _spoken(ctx: conversation.Ctx, moment: datetime | None) -> str:
    return spoken_when(to_local(ctx.client, moment), ctx.locale) if moment else ""


HANDLERS = {"returning": on_returning, "cancel-confirm": on_cancel_confirm}

# Last, on purpose: `conversation` imports this module for its table of steps and hands over to
# it, while these steps build on its helpers. With this module whole before `conversation`
# loads, and `conversation` used only when a step runs, either may be imported first.
from ringly.voice import conversation  # noqa: E402
