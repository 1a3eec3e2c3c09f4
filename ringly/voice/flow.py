"""What the caller hears: pure builders of VoiceResponse documents from lines and a scene."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from twilio.twiml.voice_response import Gather, VoiceResponse

from ringly.voice.tts import POLLY
from ringly.wording import prompt

# (text, locale): a line and the language (so the voice) it is spoken in.
Line = tuple[str, str]
GATHER_LANGUAGE = {"en": "en-US", "es": "es-US"}
PERSONA = {"en": "rachel", "es": "lina"}


@dataclass(frozen=True)
class Scene:
    """How to voice a line and where the next request goes; everything else is data."""

    locale: str
    base_url: str
    turn: int
    audio_url: Callable[[str, str], str | None] = lambda text, locale: None
    # Every line this scene spoke, in order: the call's transcript keeps them.
    said: list[str] = field(default_factory=list, compare=False)

    def action(self, step: str) -> str:
        return f"{self.base_url}/voice/{PERSONA[self.locale]}/{step}/{self.turn}"

    def speak(self, parent: VoiceResponse | Gather, text: str, locale: str | None = None) -> None:
        locale = locale or self.locale
        self.said.append(text)
        url = self.audio_url(text, locale)
        if url:
            parent.play(url)
        else:
            voice, language = POLLY[locale]
            parent.say(text, voice=voice, language=language)

    def line(self, key: str, **values: object) -> Line:
        return prompt(key, self.locale, **values), self.locale


def ask(
    scene: Scene,
    lines: Sequence[Line],
    step: str,
    *,
    hints: str | None = None,
    num_digits: int | None = 1,
    speech: bool = True,
    timeout: int = 5,
) -> VoiceResponse:
    """Speak the lines inside a <Gather>; silence falls through to a <Redirect> to the same step,
    which arrives with no input, so every gather has a no-input path."""
    response = VoiceResponse()
    action = scene.action(step)
    gather = response.gather(
        input="dtmf speech" if speech else "dtmf",
        action=action,
        method="POST",
        timeout=timeout,
        speech_timeout="auto" if speech else None,
        language=GATHER_LANGUAGE[scene.locale],
        num_digits=num_digits,
        hints=hints,
        action_on_empty_result=False,
    )
    for text, locale in lines:
        scene.speak(gather, text, locale)
    response.redirect(action, method="POST")
    return response


def finish(scene: Scene, lines: Sequence[Line]) -> VoiceResponse:
    """Speak the lines and hang up: the only way a call ends, always with words."""
    response = VoiceResponse()
    for text, locale in lines:
        scene.speak(response, text, locale)
    response.hangup()
    return response


def record(scene: Scene, lines: Sequence[Line], step: str, transcription_url: str) -> VoiceResponse:
    """Ask for a voicemail and record it; the recording is posted to `step`."""
    response = VoiceResponse()
    for text, locale in lines:
        scene.speak(response, text, locale)
    response.record(
        action=scene.action(step),
        method="POST",
        max_length=120,
        finish_on_key="#",
        play_beep=True,
        transcribe=True,
        transcribe_callback=transcription_url,
    )
    # <Record> with no audio falls through here rather than into silence.
    response.redirect(scene.action(step), method="POST")
    return response


def dial(scene: Scene, lines: Sequence[Line], number: str, caller_id: str | None,
         step: str) -> VoiceResponse:
    """Connect the caller to the business; the outcome is posted to `step`."""
    response = VoiceResponse()
    for text, locale in lines:
        scene.speak(response, text, locale)
    response.dial(number, action=scene.action(step), method="POST", timeout=20,
                  caller_id=caller_id)
    return response


def bilingual_goodbye(scene: Scene, key: str) -> VoiceResponse:
    """The same message in English then Spanish (unknown number, disabled client)."""
    return finish(scene, [(prompt(key, "en"), "en"), (prompt(key, "es"), "es")])


def fallback(base_url: str) -> VoiceResponse:
    """Static apology in both languages that still takes a message; uses nothing but Polly.

    `base_url` is the fallback's own host: the recording and its transcription are posted
    there, not to the host that just failed."""
    response = VoiceResponse()
    for locale in ("en", "es"):
        voice, language = POLLY[locale]
        response.say(prompt("fallback", locale), voice=voice, language=language)
    recorded = f"{base_url}/voice/fallback/recorded"
    response.record(action=recorded, method="POST", max_length=120, finish_on_key="#",
                    play_beep=True, transcribe=True, transcribe_callback=recorded)
    # Reached only when nothing was recorded (the recording goes to the action instead).
    for locale in ("en", "es"):
        voice, language = POLLY[locale]
        response.say(prompt("voicemail_empty", locale), voice=voice, language=language)
    response.hangup()
    return response


def fallback_thanks() -> VoiceResponse:
    """After a message was left on the fallback path: thanks in both languages, Polly only."""
    response = VoiceResponse()
    for locale in ("en", "es"):
        voice, language = POLLY[locale]
        response.say(prompt("voicemail_thanks", locale), voice=voice, language=language)
    response.hangup()
    return response
