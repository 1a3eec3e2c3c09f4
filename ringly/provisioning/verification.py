"""The last check before a job completes: a signed synthetic call to the number's voice URL."""
from __future__ import annotations

import uuid
from xml.etree import ElementTree

import requests
from flask import current_app

from ringly.telephony import sign_request

TWIML_TYPES = ("text/xml", "application/xml")


class VerificationFailed(Exception):
    """The voice URL did not answer a signed inbound call with valid TwiML."""


def verify_voice_entry(voice_url: str, phone_number: str) -> str:
    """POST what Twilio would send for an inbound call; raise VerificationFailed unless TwiML.

    Returns the request's CallSid: the voice entry records the request as a call, which the
    saga then marks `verification` and finished."""
    call_sid = "CA" + uuid.uuid4().hex
    params = {
        "CallSid": call_sid,
        "AccountSid": current_app.config["TWILIO_ACCOUNT_SID"],
        "From": "+15005550006",
        "To": phone_number,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }
    signature = sign_request(current_app.config["TWILIO_AUTH_TOKEN"], voice_url, params)
    try:
        response = requests.post(
            voice_url, data=params, headers={"X-Twilio-Signature": signature}, timeout=(3, 10)
        )
    except requests.RequestException as error:
        raise VerificationFailed(f"the voice URL {voice_url} did not answer: {error}") from error
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    body = response.text.lstrip("\ufeff")
    if response.status_code != 200:
        raise VerificationFailed(f"the voice URL {voice_url} answered {response.status_code}")
    if content_type not in TWIML_TYPES or not body.startswith("<?xml"):
        raise VerificationFailed(f"the voice URL {voice_url} answered {content_type}, not TwiML")
    try:
        root = ElementTree.fromstring(body.encode())
    except ElementTree.ParseError as error:
        raise VerificationFailed(f"the voice URL {voice_url} sent invalid XML: {error}") from error
    if root.tag != "Response":
        raise VerificationFailed(f"the voice URL {voice_url} sent <{root.tag}>, not <Response>")
    return call_sid
