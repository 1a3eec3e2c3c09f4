"""Call simulator: signed webhooks, TwiML verbs, fallbacks, recordings and status callbacks."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests
from flask import Flask, Response, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.serving import make_server

from ringly.sandbox.call import main as call_cli


class VoiceApp:
    """A throwaway TwiML app on an ephemeral port that records every webhook it receives."""

    def __init__(self, auth_token: str) -> None:
        self.auth_token = auth_token
        self.received: list[tuple[str, dict[str, str], bool]] = []
        self.app = Flask("test_voice_app")
        self._routes()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _record(self) -> dict[str, str]:
        params = request.form.to_dict()
        valid = RequestValidator(self.auth_token).validate(
            request.url, request.form, request.headers.get("X-Twilio-Signature", "")
        )
        self.received.append((request.path, params, valid))
        return params

    def _routes(self) -> None:
        app = self.app

        def twiml(response: VoiceResponse) -> Response:
            return Response(str(response), mimetype="text/xml")

        @app.post("/voice")
        def voice() -> Response:
            self._record()
            response = VoiceResponse()
            gather = response.gather(
                input="dtmf speech", action="/menu", num_digits=1, language="es-MX"
            )
            gather.say("Para español oprima dos.", voice="Polly.Mia-Neural", language="es-MX")
            response.say("No input, goodbye.")
            return twiml(response)

        @app.post("/menu")
        def menu() -> Response:
            params = self._record()
            response = VoiceResponse()
            choice = params.get("Digits") or params.get("SpeechResult")
            response.say(f"You chose {choice}.")
            if choice == "3":
                response.redirect("/take-message")
            return twiml(response)

        @app.post("/take-message")
        def take_message() -> Response:
            self._record()
            response = VoiceResponse()
            response.say("Leave a message.")
            response.record(action="/recorded", transcribe_callback="/transcribed")
            response.say("Nothing recorded.")
            return twiml(response)

        @app.post("/recorded")
        def recorded() -> Response:
            self._record()
            response = VoiceResponse()
            response.say("Thanks.")
            response.hangup()
            return twiml(response)

        @app.post("/transcribed")
        def transcribed() -> Response:
            self._record()
            return Response("", status=204)

        @app.post("/status")
        def status() -> Response:
            self._record()
            return Response("", status=204)

        @app.post("/broken")
        def broken() -> Response:
            self._record()
            return Response("boom", status=500)

        @app.post("/leading-space")
        def leading_space() -> Response:
            self._record()
            response = VoiceResponse()
            response.say("Hi")
            return Response("\n" + str(response), mimetype="text/xml")

        @app.post("/fallback")
        def fallback() -> Response:
            self._record()
            response = VoiceResponse()
            response.say("Sorry, we are having trouble.")
            return twiml(response)

        @app.post("/dial")
        def dial() -> Response:
            self._record()
            response = VoiceResponse()
            response.dial("+14155550100", action="/status")
            return twiml(response)

    def paths(self) -> list[str]:
        return [path for path, _params, _valid in self.received]

    def params_for(self, path: str) -> dict[str, str]:
        return next(params for p, params, _ in self.received if p == path)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def voice_app(sandbox) -> Iterator[VoiceApp]:
    app = VoiceApp(sandbox.auth_token)
    yield app
    app.stop()


def own_number(sandbox, voice_app: VoiceApp, voice: str, fallback: str = "") -> str:
    response = requests.post(
        f"{sandbox.url}/2010-04-01/Accounts/{sandbox.account_sid}/IncomingPhoneNumbers.json",
        data={
            "AreaCode": "415",
            "VoiceUrl": voice_app.url + voice,
            "VoiceFallbackUrl": voice_app.url + fallback if fallback else "",
            "StatusCallback": voice_app.url + "/status",
        },
        auth=(sandbox.account_sid, sandbox.auth_token),
        timeout=5,
    )
    return response.json()["phone_number"]


def place_call(sandbox, to: str, inputs: list[dict]) -> dict:
    response = requests.post(
        f"{sandbox.url}/sandbox/calls",
        json={"to": to, "from": "+12125550123", "inputs": inputs},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_gather_with_digits_posts_digits_to_action_with_valid_signatures(sandbox, voice_app):
    number = own_number(sandbox, voice_app, "/voice")
    call = place_call(sandbox, number, [{"digits": "2"}])

    assert call["status"] == "completed" and call["errors"] == []
    assert call["heard"] == ["Para español oprima dos.", "You chose 2."]
    assert call["transcript"][1] == {
        "say": "Para español oprima dos.",
        "voice": "Polly.Mia-Neural",
        "language": "es-MX",
    }
    assert voice_app.paths() == ["/voice", "/menu", "/status"]
    assert all(valid for _path, _params, valid in voice_app.received)
    first = voice_app.params_for("/voice")
    assert first["CallSid"] == call["call_sid"] and first["CallSid"].startswith("CA")
    assert (first["Direction"], first["CallStatus"], first["Caller"]) == (
        "inbound",
        "in-progress",
        "+12125550123",
    )
    assert voice_app.params_for("/menu")["Digits"] == "2"


def test_gather_with_speech_posts_speech_result_and_confidence(sandbox, voice_app):
    number = own_number(sandbox, voice_app, "/voice")
    call = place_call(sandbox, number, [{"speech": "next tuesday at 2", "confidence": 0.8}])
    menu = voice_app.params_for("/menu")
    assert (menu["SpeechResult"], menu["Confidence"]) == ("next tuesday at 2", "0.8")
    assert call["heard"][-1] == "You chose next tuesday at 2."


def test_silence_falls_through_to_the_verbs_after_gather(sandbox, voice_app):
    number = own_number(sandbox, voice_app, "/voice")
    call = place_call(sandbox, number, [{"silence": True}])
    assert call["heard"] == ["Para español oprima dos.", "No input, goodbye."]
    assert "/menu" not in voice_app.paths()


@pytest.mark.parametrize("primary", ["/broken", "/leading-space"])
def test_fallback_url_is_used_when_primary_fails(sandbox, voice_app, primary):
    number = own_number(sandbox, voice_app, primary, fallback="/fallback")
    call = place_call(sandbox, number, [])
    assert call["heard"] == ["Sorry, we are having trouble."]
    assert voice_app.paths() == [primary, "/fallback", "/status"]
    fallback_params = voice_app.params_for("/fallback")
    assert fallback_params["ErrorUrl"] == voice_app.url + primary
    assert fallback_params["ErrorCode"] == ("11200" if primary == "/broken" else "12100")
    assert call["errors"][0]["code"] == int(fallback_params["ErrorCode"])


def test_failure_without_fallback_plays_application_error_and_fails_the_call(sandbox, voice_app):
    number = own_number(sandbox, voice_app, "/leading-space")
    call = place_call(sandbox, number, [])
    assert call["status"] == "failed" and "application error" in call["heard"][0]


def test_record_posts_recording_to_action_and_transcription_callback(sandbox, voice_app):
    number = own_number(sandbox, voice_app, "/voice")
    call = place_call(sandbox, number, [{"digits": "3"}, {"record": "please call me back"}])
    assert voice_app.paths() == [
        "/voice",
        "/menu",
        "/take-message",
        "/transcribed",
        "/recorded",
        "/status",
    ]
    recorded = voice_app.params_for("/recorded")
    assert recorded["RecordingSid"].startswith("RE")
    assert recorded["RecordingUrl"].startswith(sandbox.url + "/sandbox/recordings/")
    transcribed = voice_app.params_for("/transcribed")
    assert transcribed["TranscriptionText"] == "please call me back"
    assert transcribed["TranscriptionStatus"] == "completed"
    assert transcribed["RecordingSid"] == recorded["RecordingSid"]
    assert call["heard"][-1] == "Thanks."


def test_status_callback_reports_completion_and_call_can_be_read_back(sandbox, voice_app):
    number = own_number(sandbox, voice_app, "/dial")
    call = place_call(sandbox, number, [])
    assert {"dial": "+14155550100"} in call["transcript"]
    status = [p for path, p, _ in voice_app.received if path == "/status"][-1]
    assert status["CallStatus"] == "completed"
    assert status["CallbackSource"] == "call-progress-events"
    assert int(status["CallDuration"]) >= 1 and status["SequenceNumber"] == "0"
    again = requests.get(f"{sandbox.url}/sandbox/calls/{call['call_sid']}", timeout=5).json()
    assert again == call


def test_calling_a_number_not_owned_is_a_404_problem(sandbox):
    response = requests.post(
        f"{sandbox.url}/sandbox/calls", json={"to": "+14155550000", "from": "+1"}, timeout=5
    )
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"


def test_cli_prints_heard_lines_and_the_keys_sent(sandbox, voice_app, capsys):
    number = own_number(sandbox, voice_app, "/voice")
    exit_code = call_cli(["--sandbox", sandbox.url, "--to", number, "--input", "1"])
    printed = capsys.readouterr().out
    assert exit_code == 0
    assert "bot: Para español oprima dos." in printed and "you: pressed 1" in printed
    assert "bot: You chose 1." in printed and "status: completed" in printed
