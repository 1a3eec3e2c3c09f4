"""The conversation: each step turns (call state, caller input, locale) into the next TwiML."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from twilio.twiml.voice_response import VoiceResponse

from ringly.admin.services import record_event
from ringly.booking import services as booking
from ringly.booking.slots import to_local
from ringly.clients.models import Client
from ringly.destinations import check_client_destination
from ringly.messaging import outbound
from ringly.messaging.policy import masked
from ringly.text import normalise
from ringly.voice import flow, returning
from ringly.voice.answers import LAST, e164, key, offered_choice, yes_or_no
from ringly.voice.flow import Line, Scene
from ringly.wording import (
    HINTS,
    WORDS,
    hours_summary,
    prompt,
    spoken_code,
    spoken_when,
)

MAX_REPROMPTS = 2


@dataclass(frozen=True)
class Turn:
    """What the caller did: keys pressed, words said, and the rest of Twilio's form."""

    digits: str = ""
    speech: str = ""
    form: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.digits and not self.speech


@dataclass
class Ctx:
    """One turn's world: the client, the caller, the state to update, and how to speak."""

    client: Client
    caller: str | None
    call_sid: str
    state: dict[str, Any]
    scene: Scene
    now: datetime
    transcription_url: str

    @property
    def locale(self) -> str:
        return self.scene.locale

    def caller_is_phone(self) -> bool:
        return bool(self.caller and self.caller.startswith("+"))


@dataclass(frozen=True)
class Reply:
    step: str | None  # None: the call ends with this document
    response: VoiceResponse
    language: str | None = None  # set when the caller picked a language this turn


def said(turn: Turn, meaning: str, locale: str) -> bool:
    words = f" {normalise(turn.speech)} "
    return any(f" {word} " in words for word in WORDS[meaning][locale])


# -- prompts for each step (also used to re-prompt and to answer a stale request) -------------
def greeting(ctx: Ctx) -> Line:
    if ctx.client.custom_greeting:
        return ctx.client.custom_greeting, ctx.locale
    return ctx.scene.line("greeting", business=ctx.client.business_name)


def step_prompt(ctx: Ctx, step: str, before: list[Line] | None = None) -> VoiceResponse:
    """The document that (re-)asks the question of `step`, after the lines in `before`."""
    lines = list(before or [])
    scene = ctx.scene
    if step == "language":
        lines += [(prompt("language_menu", "en"), "en"), (prompt("language_menu", "es"), "es")]
        return flow.ask(scene, lines, step, hints=HINTS["language"])
    if step == "intent":
        lines.append(scene.line("intent_menu"))
        return flow.ask(scene, lines, step, hints=HINTS["intent"][ctx.locale])
    if step == "book-name":
        lines.append(scene.line("ask_name"))
        return flow.ask(scene, lines, step, num_digits=None, timeout=6)
    if step == "book-phone":
        if ctx.state.get("own_number_declined"):
            lines.append(scene.line("ask_phone_number"))
            return flow.ask(scene, lines, step, num_digits=None, timeout=8)
        key = "ask_phone" if ctx.caller_is_phone() else "ask_phone_no_caller_id"
        lines.append(scene.line(key, name=ctx.state.get("name", "")))
        hints = HINTS["yes_no"][ctx.locale] if ctx.caller_is_phone() else None
        return flow.ask(scene, lines, step, num_digits=None, timeout=8, hints=hints)
    if step == "book-time":
        lines.append(scene.line("ask_time"))
        return flow.ask(scene, lines, step, num_digits=None, timeout=6)
    if step == "book-confirm":
        candidate = _moment(ctx.state["candidate"])
        lines.append(scene.line("confirm_time", when=read_back(ctx, candidate)))
        return flow.ask(scene, lines, step, hints=HINTS["yes_no"][ctx.locale])
    if step == "book-pick":
        options = ", ".join(
            prompt("option", ctx.locale, n=index,
                   when=spoken_when(to_local(ctx.client, _moment(iso)), ctx.locale))
            for index, iso in enumerate(ctx.state.get("options", []), start=1)
        )
        lines.append(scene.line("offer_alternatives", options=options))
        return flow.ask(scene, lines, step, num_digits=1, timeout=6,
                        hints=HINTS["pick"][ctx.locale])
    if step == "voicemail":
        lines.append(scene.line("voicemail"))
        return flow.record(scene, lines, step, ctx.transcription_url)
    return returning.step_prompt(ctx, step, lines)


def _moment(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def read_back(ctx: Ctx, moment: datetime) -> str:
    """A time read back to the caller in the client's zone, naming today or tomorrow when it is
    ("tomorrow, Thursday December 3, at 10 AM")."""
    return spoken_when(to_local(ctx.client, moment), ctx.locale,
                       today=to_local(ctx.client, ctx.now).date())


def reprompt(ctx: Ctx, step: str, turn: Turn) -> Reply:
    """Ask again after silence or nonsense, at most twice; then end politely, never in silence."""
    attempts = ctx.state.setdefault("attempts", {})
    attempts[step] = attempts.get(step, 0) + 1
    problem = ctx.scene.line("no_input" if turn.empty else "not_understood")
    if attempts[step] > MAX_REPROMPTS:
        return Reply(None, flow.finish(ctx.scene, [problem, ctx.scene.line("goodbye_no_answer")]))
    return Reply(step, step_prompt(ctx, step, [problem]))


def start(ctx: Ctx) -> Reply:
    """The first answer: greet in the remembered language, or offer the language menu."""
    if ctx.state.get("remembered_language"):
        return returning.after_greeting(ctx)
    return Reply("language", step_prompt(ctx, "language"))


# -- step handlers ---------------------------------------------------------------------------
def on_language(ctx: Ctx, turn: Turn) -> Reply:
    choice = None
    pressed = key(turn.digits, turn.speech)  # "one" or "dos" said is the key pressed
    if pressed == "1" or said(turn, "english", "en"):
        choice = "en"
    elif pressed == "2" or said(turn, "spanish", "es"):
        choice = "es"
    elif turn.empty:
        choice = "en"  # silence means English, as callers expect from the original line
    attempts = ctx.state.setdefault("attempts", {})
    if choice is None and attempts.get("language", 0) >= MAX_REPROMPTS:
        choice = "en"
    if choice is None:
        return reprompt(ctx, "language", turn)
    ctx.scene = Scene(choice, ctx.scene.base_url, ctx.scene.turn, ctx.scene.audio_url,
                      ctx.scene.said)
    return returning.after_greeting(ctx, language=choice)


def on_intent(ctx: Ctx, turn: Turn) -> Reply:
    pressed = key(turn.digits, turn.speech)  # "one" or "uno" said is the key pressed
    if pressed == "1" or said(turn, "book", ctx.locale):
        return Reply("book-name", step_prompt(ctx, "book-name"))
    if pressed == "2" or said(turn, "message", ctx.locale):
        return Reply("voicemail", step_prompt(ctx, "voicemail"))
    if pressed == "3" or said(turn, "hours", ctx.locale):
        hours = ctx.scene.line("hours", hours=hours_summary(ctx.client.business_hours or {},
                                                            ctx.locale))
        return Reply("intent", step_prompt(ctx, "intent", [hours]))
    if pressed == "4" or said(turn, "person", ctx.locale):
        return connect(ctx)
    return reprompt(ctx, "intent", turn)


def connect(ctx: Ctx) -> Reply:
    """Dial the client's forwarding number, checked again here (it may predate the policy, or
    the allowed countries may have changed): a refused one is not dialled; the caller is
    offered voicemail."""
    number = ctx.client.forwarding_number
    if not number:
        return Reply("voicemail", step_prompt(ctx, "voicemail",
                                              [ctx.scene.line("nobody_available")]))
    refusal = check_client_destination(number, ctx.client.country)
    if refusal is not None:
        record_event("dial.refused", f"call {ctx.call_sid}: forwarding number "
                     f"{masked(number)} not dialled: {refusal.detail}", subject=ctx.client,
                     data={"reason": refusal.code, "call_sid": ctx.call_sid,
                           "to": masked(number)})
        return Reply("voicemail", step_prompt(ctx, "voicemail", [ctx.scene.line("dial_refused")]))
    return Reply("dial", flow.dial(ctx.scene, [ctx.scene.line("connecting")], number,
                                   ctx.client.ringlypro_number, "dial"))


def on_book_name(ctx: Ctx, turn: Turn) -> Reply:
    name = " ".join(turn.speech.split()).strip(" .,")
    if not name or len(name) > 100:
        return reprompt(ctx, "book-name", turn)
    ctx.state["name"] = name
    return Reply("book-phone", step_prompt(ctx, "book-phone"))


def on_book_phone(ctx: Ctx, turn: Turn) -> Reply:
    number = e164(turn.digits or turn.speech, ctx.client.country or "US")
    if number is None and ctx.caller_is_phone() and not ctx.state.get("own_number_declined"):
        # "To use the number you're calling from, press 1 or say yes": "yes", "sure", "sí"
        # count as much as the key; a "no" asks for the number.
        own = yes_or_no(turn.digits, turn.speech, ctx.locale)
        if own:
            number = ctx.caller
        elif own is False:
            ctx.state["own_number_declined"] = True
            return Reply("book-phone", step_prompt(ctx, "book-phone"))
    if number is None:
        return reprompt(ctx, "book-phone", turn)
    ctx.state["phone"] = number
    return Reply("book-time", step_prompt(ctx, "book-time"))


def on_book_time(ctx: Ctx, turn: Turn) -> Reply:
    if turn.empty or not turn.speech:
        return reprompt(ctx, "book-time", turn)
    check = booking.check_time(ctx.client, turn.speech, ctx.locale, ctx.now)
    if check.slot is not None:
        ctx.state["candidate"] = check.slot.isoformat()
        return Reply("book-confirm", step_prompt(ctx, "book-confirm"))
    if check.asked is None:
        # Not understood: ask again, never guess.
        attempts = ctx.state.setdefault("attempts", {})
        attempts["book-time"] = attempts.get("book-time", 0) + 1
        sorry = ctx.scene.line("time_not_understood")
        if attempts["book-time"] > MAX_REPROMPTS:
            return Reply(None, flow.finish(ctx.scene, [sorry, ctx.scene.line("goodbye_no_answer")]))
        return Reply("book-time", step_prompt(ctx, "book-time", [sorry]))
    if (unchanged := returning.same_time(ctx, check.asked)) is not None:
        return unchanged
    # A time already gone ("today at 9" said at 10) is said to be past, never booked; the
    # times offered instead are all still to come.
    key = "time_passed" if check.asked <= ctx.now else "slot_unavailable"
    return offer(ctx, [ctx.scene.line(key, when=read_back(ctx, check.asked))], check.alternatives)


def offer(ctx: Ctx, before: list[Line], alternatives: list[datetime]) -> Reply:
    if not alternatives:
        return Reply("book-time", flow.ask(ctx.scene, [*before, ctx.scene.line("no_alternatives")],
                                           "book-time", num_digits=None, timeout=6))
    ctx.state["options"] = [moment.isoformat() for moment in alternatives]
    return Reply("book-pick", step_prompt(ctx, "book-pick", before))


def on_book_pick(ctx: Ctx, turn: Turn) -> Reply:
    options = ctx.state.get("options", [])
    # A key, an ordinal or a number is read before any date: "the second one" is the second
    # time offered, never the 2nd of the month.
    choice = int(turn.digits) if turn.digits.isdigit() else offered_choice(turn.speech)
    if choice == LAST:
        choice = len(options)
    if choice is not None and 1 <= choice <= len(options):
        ctx.state["candidate"] = options[choice - 1]
        return Reply("book-confirm", step_prompt(ctx, "book-confirm"))
    if choice is None and turn.speech:
        return on_book_time(ctx, turn)  # another day and time
    return reprompt(ctx, "book-pick", turn)


def on_book_confirm(ctx: Ctx, turn: Turn) -> Reply:
    answer = yes_or_no(turn.digits, turn.speech, ctx.locale)
    if answer is False:
        # Only the time is asked again: the name and phone already given are kept.
        return Reply("book-time", step_prompt(ctx, "book-time",
                                              [ctx.scene.line("another_time")]))
    if answer is None:
        return reprompt(ctx, "book-confirm", turn)
    start = _moment(ctx.state["candidate"])
    if ctx.state.get("change_of"):
        return returning.confirm_change(ctx, start)
    try:
        appointment = booking.book_slot(
            ctx.client, call_sid=ctx.call_sid, name=ctx.state["name"],
            phone=ctx.state["phone"], starts_at=start, language=ctx.locale, now=ctx.now,
        )
    except booking.SlotTaken:
        # Taken by another caller meanwhile, or the caller took so long that it has passed.
        sorry = (ctx.scene.line("time_passed", when=read_back(ctx, start)) if start <= ctx.now
                 else ctx.scene.line("slot_just_taken"))
        return offer(ctx, [sorry], booking.alternatives(ctx.client, start, ctx.now))
    text = outbound.queue_confirmation(appointment, ctx.client, caller=ctx.caller)
    ctx.state["appointment_id"] = appointment.id
    # A refused text (a number abroad or of a costly kind, a limit reached) does not undo the
    # booking: the caller hears the code and is told no text is coming.
    key = "booked_no_text" if text.status == "refused" else "booked"
    return Reply(None, flow.finish(ctx.scene, [ctx.scene.line(
        key, when=read_back(ctx, appointment.starts_at),
        code_spoken=spoken_code(appointment.confirmation_code))]))


def on_dial(ctx: Ctx, turn: Turn) -> Reply:
    if turn.form.get("DialCallStatus") == "completed":
        return Reply(None, flow.finish(ctx.scene, []))
    return Reply("voicemail", step_prompt(ctx, "voicemail", [ctx.scene.line("nobody_available")]))


HANDLERS: dict[str, Callable[[Ctx, Turn], Reply]] = {
    "language": on_language,
    "intent": on_intent,
    "book-name": on_book_name,
    "book-phone": on_book_phone,
    "book-time": on_book_time,
    "book-pick": on_book_pick,
    "book-confirm": on_book_confirm,
    "dial": on_dial,
    **returning.HANDLERS,  # a returning caller's appointment: keep, change, cancel
}
