"""The voice fallback on a host of its own: Twilio signs that host's URL, and the message the
caller leaves goes there too, not back to the main host that has just failed."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import sqlalchemy as sa
from flask import Flask

from ringly import create_app
from ringly.db import db
from ringly.messaging.models import Message
from ringly.telephony import WebhookConfig, get_gateway
from ringly.telephony.signatures import sign_request
from ringly.voice.models import Call
from tests.support.wsgi_server import LiveServer, free_port
from tests.voice.conftest import CALLER, CLIENT_NUMBER, make_client, parse_twiml, spoken

FALLBACK_BASE = "https://fallback.ringly.example"
NUMBER = "+15005550006"
RECORDING = {"CallSid": "CA" + "f" * 32, "From": CALLER, "To": CLIENT_NUMBER,
             "RecordingSid": "RE" + "f" * 32, "RecordingUrl": "https://api.twilio.com/rec/REf",
             "RecordingDuration": "6"}


@pytest.fixture
def split_app(app, service_env, tmp_path) -> Iterator[Flask]:
    """The same database as `app`, with the fallback on a base URL of its own."""
    split = create_app({"ENVIRON": dict(service_env, WEBHOOK_FALLBACK_BASE_URL=FALLBACK_BASE),
                        "INSTANCE_PATH": str(tmp_path / "instance")})
    yield split
    with split.app_context():
        db.session.remove()
        db.engine.dispose()


def _post(app: Flask, path: str, params: dict[str, str], signed_for: str):
    signature = sign_request(app.config["TWILIO_AUTH_TOKEN"], signed_for + path, params)
    return app.test_client().post(path, data=params, headers={"X-Twilio-Signature": signature})


def _count(app: Flask, model) -> int:
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(model))
        db.session.remove()
    return count


@pytest.mark.parametrize("signed_for", ["fallback", "main"])
def test_fallback_accepts_a_signature_for_either_base_and_records_to_the_fallback_host(
        split_app, signed_for):
    base = FALLBACK_BASE if signed_for == "fallback" else split_app.config["WEBHOOK_BASE_URL"]
    response = _post(split_app, "/voice/fallback", {"CallSid": "CA" + "1" * 32,
                                                     "ErrorCode": "11200"}, base)
    assert response.status_code == 200
    root = parse_twiml(response.data)
    texts = [text for text, _ in spoken(root)]
    assert "trouble answering" in texts[0] and "problemas para atenderle" in texts[1]
    record = root.find("Record")
    # The main host has just failed: what the caller leaves must not be posted back to it.
    assert record.get("action") == f"{FALLBACK_BASE}/voice/fallback/recorded"
    assert record.get("transcribeCallback") == f"{FALLBACK_BASE}/voice/fallback/recorded"


def test_fallback_recording_signed_for_the_fallback_host_is_stored(split_app):
    make_client(split_app)
    response = _post(split_app, "/voice/fallback/recorded", RECORDING, FALLBACK_BASE)
    assert response.status_code == 200
    assert "we got your message" in " ".join(text for text, _ in spoken(parse_twiml(
        response.data)))
    transcribed = dict(RECORDING, TranscriptionText="please call me back",
                       TranscriptionStatus="completed")
    assert _post(split_app, "/voice/fallback/recorded", transcribed,
                 FALLBACK_BASE).status_code == 200
    with split_app.app_context():
        [voicemail] = db.session.scalars(sa.select(Message)).all()
        assert voicemail.recording_url == RECORDING["RecordingUrl"]
        assert voicemail.transcription == "please call me back"
        db.session.remove()


@pytest.mark.parametrize("path", ["/voice/rachel/", "/voice/rachel/language/1",
                                  "/voice/rachel/transcription", "/webhook/twilio/status",
                                  "/webhook/twilio/sms", "/webhook/twilio/sms-status"])
def test_other_webhooks_refuse_a_signature_for_the_fallback_base(split_app, path):
    make_client(split_app)
    params = {**RECORDING, "MessageSid": "SM" + "2" * 32, "Body": "CANCEL",
              "CallStatus": "completed", "TranscriptionText": "hello"}
    response = _post(split_app, path, params, FALLBACK_BASE)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert _count(split_app, Call) + _count(split_app, Message) == 0


@pytest.mark.parametrize("path", ["/voice/fallback", "/voice/fallback/recorded"])
def test_fallback_refuses_a_signature_for_any_other_host(split_app, path):
    make_client(split_app)
    response = _post(split_app, path, RECORDING, "https://elsewhere.example")
    assert response.status_code == 403
    assert _count(split_app, Message) == 0


@pytest.fixture
def fallback_host(app, service_env, tmp_path) -> Iterator[tuple[LiveServer, str]]:
    """The app a second time, on a port of its own, as the fallback host of a deployment whose
    main host (`WEBHOOK_BASE_URL`) is down: nothing listens there."""
    server = LiveServer()
    main = f"http://127.0.0.1:{free_port()}"
    fallback_app = create_app({
        "ENVIRON": dict(service_env, WEBHOOK_BASE_URL=main,
                        WEBHOOK_FALLBACK_BASE_URL=server.url),
        "INSTANCE_PATH": str(tmp_path / "fallback-instance")})
    server.serve(fallback_app)
    yield server, main
    server.stop()
    with fallback_app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_call_to_a_failed_main_host_reaches_the_fallback_host_and_the_message_is_kept(
        app, sandbox, fallback_host):
    server, main = fallback_host
    with app.app_context():
        get_gateway().purchase(phone_number=NUMBER, friendly_name="ringly-test",
                               webhooks=WebhookConfig(
                                   voice_url=f"{main}/voice/rachel/",
                                   voice_fallback_url=f"{server.url}/voice/fallback",
                                   sms_url=f"{main}/webhook/twilio/sms",
                                   status_callback=f"{main}/webhook/twilio/status"))
        db.session.remove()
    make_client(app, ringlypro_number=NUMBER)
    response = requests.post(f"{sandbox.url}/sandbox/calls", timeout=60, json={
        "to": NUMBER, "from": CALLER, "inputs": [{"record": "please call me back"}]})
    assert response.status_code == 200, response.text
    call = response.json()
    heard = " | ".join(call["heard"])
    assert "trouble answering" in heard and "problemas para atenderle" in heard
    assert "we got your message" in heard and "application error" not in heard
    assert call["status"] == "completed"
    # Every request to the fallback host was signed for that host's URL and answered.
    to_fallback = [entry for entry in call["transcript"]
                   if entry.get("request", "").startswith(server.url)]
    assert [entry["request"].removeprefix(server.url) for entry in to_fallback] == [
        "/voice/fallback", "/voice/fallback/recorded", "/voice/fallback/recorded"]
    assert all(entry["status"] == 200 for entry in to_fallback), to_fallback
    # Only the main host failed (the voice URL, then the status callback).
    assert {error["url"] for error in call["errors"]} == {
        f"{main}/voice/rachel/", f"{main}/webhook/twilio/status"}
    with app.app_context():
        [voicemail] = db.session.scalars(sa.select(Message)).all()
        assert voicemail.channel == "voicemail" and voicemail.from_number == CALLER
        assert voicemail.recording_url and voicemail.transcription == "please call me back"
        assert voicemail.client_id is not None
        db.session.remove()
