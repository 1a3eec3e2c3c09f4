"""Every webhook refuses (403, nothing stored) a request Twilio did not sign for that URL."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from ringly.db import db
from ringly.messaging.models import Message
from ringly.telephony.signatures import sign_request
from ringly.voice.models import Call
from tests.voice.conftest import CALLER, CLIENT_NUMBER, make_client

ROUTES = [
    "/voice/rachel/",
    "/voice/rachel/language/1",
    "/voice/lina/book-time/4",
    "/voice/rachel/transcription",
    "/voice/fallback",
    "/voice/fallback/recorded",
    "/webhook/twilio/status",
    "/webhook/twilio/sms",
    "/webhook/twilio/sms-status",
]
PARAMS = {
    "CallSid": "CA" + "a" * 32, "MessageSid": "SM" + "b" * 32, "From": CALLER,
    "To": CLIENT_NUMBER, "CallStatus": "completed", "Digits": "1", "Body": "CANCEL",
    "RecordingSid": "RE" + "c" * 32, "RecordingUrl": "https://api.twilio.com/rec",
    "TranscriptionText": "hello", "SequenceNumber": "3",
}


def _stored(app) -> int:
    with app.app_context():
        calls = db.session.scalar(sa.select(sa.func.count()).select_from(Call))
        messages = db.session.scalar(sa.select(sa.func.count()).select_from(Message))
        db.session.remove()
    return calls + messages


def _forgeries(app, path):
    token = app.config["TWILIO_AUTH_TOKEN"]
    url = app.config["WEBHOOK_BASE_URL"] + path
    yield "missing", dict(PARAMS), {}
    yield "wrong", dict(PARAMS), {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}
    yield "another url", dict(PARAMS), {
        "X-Twilio-Signature": sign_request(token, url.replace(path, "/voice/other"), PARAMS)}
    yield "other token", dict(PARAMS), {
        "X-Twilio-Signature": sign_request("not-our-token", url, PARAMS)}
    tampered = dict(PARAMS, From="+13125550000")
    yield "tampered", tampered, {"X-Twilio-Signature": sign_request(token, url, PARAMS)}


@pytest.mark.parametrize("path", ROUTES)
def test_webhook_rejects_forged_requests_and_stores_nothing(app, client, path):
    make_client(app)
    for name, params, headers in _forgeries(app, path):
        response = client.post(path, data=params, headers=headers)
        assert response.status_code == 403, f"{name} signature on {path}"
    assert _stored(app) == 0


@pytest.mark.parametrize("path", ROUTES)
def test_webhook_accepts_twilio_signature_for_the_public_url(app, client, path):
    make_client(app)
    url = app.config["WEBHOOK_BASE_URL"] + path
    signature = sign_request(app.config["TWILIO_AUTH_TOKEN"], url, PARAMS)
    # The test client's Host is "localhost": only the public base URL can make this valid.
    response = client.post(path, data=PARAMS, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    assert response.data.startswith(b"<?xml")


def test_signature_covers_the_query_string(app, client):
    make_client(app)
    base = app.config["WEBHOOK_BASE_URL"] + "/voice/rachel/"
    signature = sign_request(app.config["TWILIO_AUTH_TOKEN"], base + "?a=1", PARAMS)
    assert client.post("/voice/rachel/?a=1", data=PARAMS,
                       headers={"X-Twilio-Signature": signature}).status_code == 200
    assert client.post("/voice/rachel/?a=2", data=PARAMS,
                       headers={"X-Twilio-Signature": signature}).status_code == 403
