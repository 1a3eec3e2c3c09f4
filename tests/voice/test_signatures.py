"""Every webhook refuses (403, nothing stored) a request Twilio did not sign for that URL."""
from __future__ import annotations

from urllib.parse import urlparse

import pytest
import sqlalchemy as sa
from twilio.request_validator import RequestValidator, add_port, remove_port
from werkzeug.datastructures import MultiDict

from ringly.db import db
from ringly.messaging.models import Message
from ringly.telephony.signatures import is_valid_signature, sign_request
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


# -- the check is Twilio's own algorithm, byte for byte -----------------------------------------
# ringly/telephony/signatures.py checks signatures without the twilio library's RequestValidator
# (a webhook turn's cheapest part is the database's now); these pin it to the library's answers.
URLS = [
    "https://ringly.example.com/voice/rachel/book-name/3",
    "https://ringly.example.com:443/voice/rachel/book-name/3",
    "https://ringly.example.com:8443/voice/lina/book-time/4?x=1&y=%2B2",
    "http://127.0.0.1:5000/voice/rachel/",
    "http://127.0.0.1/voice/rachel/",
    "http://127.0.0.1:80/webhook/twilio/status",
    "https://ringly.example.com/prefix/voice/fallback?",
]
FORMS = [
    {},
    dict(PARAMS),
    {**PARAMS, "SpeechResult": "María José, 5 & <6> \"quoted\"", "Confidence": ""},
    MultiDict([("Digits", "2"), ("Digits", "1"), ("Digits", "2"), ("CallSid", "CA" + "d" * 32),
               ("b", "x"), ("a", "y")]),
    MultiDict([("Name", "Zoë"), ("name", "zoe"), ("Name", "Åsa")]),
]


def _twilio_signatures(token: str, url: str, form) -> set[str]:
    """Every signature twilio's RequestValidator accepts for this POST: the URL with and
    without its port."""
    parsed = urlparse(url)
    validator = RequestValidator(token)
    return {validator.compute_signature(spelling, form)
            for spelling in (remove_port(parsed), add_port(parsed))}


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("form", FORMS, ids=range(len(FORMS)))
def test_signature_check_accepts_exactly_what_twilios_validator_accepts(url, form):
    token = "a-token-of-thirty-two-characters"
    for signature in _twilio_signatures(token, url, form):
        assert RequestValidator(token).validate(url, form, signature)
        assert is_valid_signature(token, url, form, signature)
    # Each near miss the library refuses is refused here too.
    genuine = sign_request(token, url, form)
    for forged in (genuine[:-2] + ("AA" if genuine[-2:] != "AA" else "BB"), genuine.lower(),
                   sign_request(token + "x", url, form), sign_request(token, url + "x", form),
                   sign_request(token, url, MultiDict([*_items(form), ("Extra", "1")])),
                   "", "é" + genuine[1:], genuine + " "):
        assert is_valid_signature(token, url, form, forged) == \
            RequestValidator(token).validate(url, form, forged)


def _items(form) -> list[tuple[str, str]]:
    return list(form.items(multi=True)) if isinstance(form, MultiDict) else list(form.items())


def test_a_webhook_with_a_repeated_field_is_checked_over_every_value(app, client):
    make_client(app)
    url = app.config["WEBHOOK_BASE_URL"] + "/voice/rachel/"
    form = MultiDict([*PARAMS.items(), ("Digits", "9")])
    signature = sign_request(app.config["TWILIO_AUTH_TOKEN"], url, form)
    assert client.post("/voice/rachel/", data=form,
                       headers={"X-Twilio-Signature": signature}).status_code == 200
    # The same signature for the form without the second value is refused.
    assert client.post("/voice/rachel/", data=PARAMS,
                       headers={"X-Twilio-Signature": signature}).status_code == 403
