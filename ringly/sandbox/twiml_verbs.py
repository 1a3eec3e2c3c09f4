"""Execute TwiML voice verbs for the call simulator, consuming the caller's scripted inputs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from ringly.sandbox.resources import new_sid

if TYPE_CHECKING:
    from ringly.sandbox.call_simulator import CallRun, CallSimulator

NextRequest = tuple[str, str, dict[str, str]]  # (url, method, extra params)
SPOKEN_WORDS_PER_SECOND = 2.5


class TwimlFetchError(Exception):
    """The webhook failed the way Twilio would count as an error (with Twilio's code)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def resolve(url: str, target: str | None) -> str:
    """An action URL relative to the document that named it (Twilio's rule)."""
    return urljoin(url, target) if target else url


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _next_input(run: CallRun) -> dict[str, Any]:
    # Running out of script is silence, like a caller who stopped pressing keys.
    return run.inputs.pop(0) if run.inputs else {"silence": True}


def _say(run: CallRun, verb: ET.Element) -> None:
    text = " ".join((verb.text or "").split())
    run.transcript.append(
        {"say": text, "voice": verb.get("voice"), "language": verb.get("language")}
    )
    run.heard.append(text)
    run.seconds += max(1.0, len(text.split()) / SPOKEN_WORDS_PER_SECOND)


def _play(run: CallRun, verb: ET.Element) -> None:
    url = (verb.text or "").strip()
    run.transcript.append({"play": url})
    run.heard.append(f"[audio {url}]")
    run.seconds += 3


def _pause(run: CallRun, verb: ET.Element) -> None:
    length = int(verb.get("length", "1") or 1)
    run.transcript.append({"pause": length})
    run.seconds += length


PROMPTS = {"Say": _say, "Play": _play, "Pause": _pause}


def _gather(sim: CallSimulator, run: CallRun, verb: ET.Element, url: str) -> NextRequest | None:
    for child in verb:
        if child.tag in PROMPTS:
            PROMPTS[child.tag](run, child)
    accepted = (verb.get("input") or "dtmf").split()
    given = _next_input(run)
    action = resolve(url, verb.get("action"))
    method = verb.get("method", "POST")
    if "digits" in given and "dtmf" in accepted:
        digits = str(given["digits"])
        run.transcript.append({"gather": {"digits": digits}})
        return action, method, {"Digits": digits}
    if "speech" in given and "speech" in accepted:
        speech = str(given["speech"])
        confidence = str(given.get("confidence", 0.9))
        run.transcript.append({"gather": {"speech": speech, "confidence": confidence}})
        return action, method, {"SpeechResult": speech, "Confidence": confidence}
    run.transcript.append({"gather": {"silence": True, "ignored": given}})
    run.seconds += int(verb.get("timeout", "5") or 5)
    if _truthy(verb.get("actionOnEmptyResult")):
        return action, method, {}
    return None  # fall through to the verbs after <Gather>


def _record(sim: CallSimulator, run: CallRun, verb: ET.Element, url: str) -> NextRequest | None:
    given = _next_input(run)
    if "record" not in given:
        run.transcript.append({"record": {"silence": True}})
        return None  # Twilio skips the action when nothing was recorded
    text = str(given["record"])
    recording_sid = new_sid("RE")
    duration = str(max(1, round(len(text.split()) / SPOKEN_WORDS_PER_SECOND)))
    recording = {
        "RecordingUrl": sim.recording_url(recording_sid),
        "RecordingSid": recording_sid,
        "RecordingDuration": duration,
    }
    run.transcript.append({"record": {"text": text, "recording_sid": recording_sid}})
    run.seconds += int(duration)
    callback = verb.get("transcribeCallback")
    if callback or _truthy(verb.get("transcribe")):
        if callback:
            params = {
                **sim.base_params(run),
                **recording,
                "TranscriptionSid": new_sid("TR"),
                "TranscriptionText": text,
                "TranscriptionStatus": "completed",
                "TranscriptionUrl": f"{sim.recording_url(recording_sid)}/transcription",
            }
            try:
                sim.request(run, resolve(url, callback), "POST", params)
            except TwimlFetchError as error:
                run.errors.append({"code": error.code, "url": callback, "message": str(error)})
    return resolve(url, verb.get("action")), verb.get("method", "POST"), recording


def _dial(sim: CallSimulator, run: CallRun, verb: ET.Element, url: str) -> NextRequest | None:
    number = (verb.text or "").strip() or " ".join(
        (child.text or "").strip() for child in verb if child.text
    )
    run.transcript.append({"dial": number})
    run.seconds += 30
    if verb.get("action"):
        extra = {"DialCallStatus": "completed", "DialCallDuration": "30"}
        return resolve(url, verb.get("action")), verb.get("method", "POST"), extra
    run.status = "completed"
    return None


def execute_document(
    sim: CallSimulator, run: CallRun, document: ET.Element, url: str
) -> NextRequest | None:
    """Run the verbs of one TwiML document; return the next webhook to request, or None."""
    for verb in document:
        if verb.tag in PROMPTS:
            PROMPTS[verb.tag](run, verb)
        elif verb.tag == "Gather":
            next_request = _gather(sim, run, verb, url)
            if next_request:
                return next_request
        elif verb.tag == "Record":
            next_request = _record(sim, run, verb, url)
            if next_request:
                return next_request
        elif verb.tag == "Redirect":
            target = resolve(url, (verb.text or "").strip())
            run.transcript.append({"redirect": target})
            return target, verb.get("method", "POST"), {}
        elif verb.tag == "Dial":
            next_request = _dial(sim, run, verb, url)
            if next_request:
                return next_request
            return None
        elif verb.tag == "Hangup":
            run.transcript.append({"hangup": True})
            return None
        elif verb.tag == "Reject":
            run.transcript.append({"reject": verb.get("reason", "rejected")})
            run.status = "busy" if verb.get("reason") == "busy" else "no-answer"
            return None
        else:
            run.errors.append({"code": 12200, "url": url, "message": f"Unknown verb <{verb.tag}>"})
    return None  # end of document: Twilio hangs up
