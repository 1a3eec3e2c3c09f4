"""Fixtures for the voice flow: a client to call, and a phone that walks TwiML like Twilio."""
from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask

from ringly.clients.models import WEEKDAYS, Client
from ringly.db import db
from ringly.telephony.signatures import sign_request

CLIENT_NUMBER = "+13125550100"
CALLER = "+13125550199"
EVERY_DAY = {day: [["09:00", "17:00"]] for day in WEEKDAYS}


def make_client(app: Flask, **values: Any) -> int:
    with app.app_context():
        client = Client(**{
            "business_name": "Sunrise Dental", "email": "desk@sunrise.example",
            "ringlypro_number": CLIENT_NUMBER, "timezone": "America/Chicago",
            "business_hours": EVERY_DAY, "slot_minutes": 30, **values,
        })
        db.session.add(client)
        db.session.commit()
        client_id = client.id
        db.session.remove()
    return client_id


def parse_twiml(body: bytes | str) -> ET.Element:
    """Every document must start with <?xml and parse; returns the <Response> root."""
    text = body.decode() if isinstance(body, bytes) else body
    assert text.startswith("<?xml"), text[:80]
    root = ET.fromstring(text)
    assert root.tag == "Response"
    return root


def spoken(root: ET.Element) -> list[tuple[str, str]]:
    """What the caller hears, in order: (text or audio URL, language)."""
    heard = []
    for element in root.iter():
        if element.tag == "Say":
            heard.append((element.text or "", element.get("language", "")))
        elif element.tag == "Play":
            heard.append((element.text or "", "audio"))
    return heard


def signed_post(http: Any, app: Flask, path: str, params: dict[str, str],
                signature: str | None = None) -> Any:
    url = app.config["WEBHOOK_BASE_URL"] + path
    headers = {"X-Twilio-Signature": signature or sign_request(
        app.config["TWILIO_AUTH_TOKEN"], url, params)}
    return http.post(path, data=params, headers=headers)


@dataclass
class Phone:
    """A caller on the Flask test client: follows <Gather>/<Redirect>/<Record> as Twilio would."""

    http: Any
    app: Flask
    to: str = CLIENT_NUMBER
    caller: str = CALLER
    call_sid: str = field(default_factory=lambda: "CA" + uuid.uuid4().hex)
    documents: list[ET.Element] = field(default_factory=list)
    heard: list[tuple[str, str]] = field(default_factory=list)

    def _params(self, **extra: str) -> dict[str, str]:
        return {"CallSid": self.call_sid, "AccountSid": self.app.config["TWILIO_ACCOUNT_SID"],
                "From": self.caller, "To": self.to, "CallStatus": "in-progress",
                "Direction": "inbound", **extra}

    def post(self, url: str, **extra: str) -> ET.Element:
        path = urlsplit(url).path if url.startswith("http") else url
        response = signed_post(self.http, self.app, path, self._params(**extra))
        assert response.status_code == 200, response.data
        assert response.mimetype == "text/xml"
        root = parse_twiml(response.data)
        self.documents.append(root)
        self.heard.extend(spoken(root))
        return root

    def dial_in(self) -> ET.Element:
        return self.post("/voice/rachel/")

    @property
    def last(self) -> ET.Element:
        return self.documents[-1]

    def said_last(self) -> str:
        return " ".join(text for text, _ in spoken(self.last))

    def ended(self) -> bool:
        return self.last.find("Hangup") is not None

    def press(self, digits: str) -> ET.Element:
        gather = self.last.find("Gather")
        assert gather is not None, "nothing is listening for keys"
        return self.post(gather.get("action"), Digits=digits)

    def say(self, words: str) -> ET.Element:
        gather = self.last.find("Gather")
        assert gather is not None, "nothing is listening for speech"
        return self.post(gather.get("action"), SpeechResult=words, Confidence="0.9")

    def stay_silent(self) -> ET.Element:
        redirect = self.last.find("Redirect")
        assert redirect is not None, "a gather with no no-input path"
        return self.post(redirect.text)

    def leave_message(self, url: str = "https://api.twilio.com/rec/RE1", seconds: int = 7,
                      sid: str | None = None) -> ET.Element:
        record = self.last.find("Record")
        assert record is not None, "not recording"
        return self.post(record.get("action"), RecordingUrl=url,
                         RecordingSid=sid or "RE" + uuid.uuid4().hex,
                         RecordingDuration=str(seconds))


@pytest.fixture
def phone(app: Flask, client: Any) -> Iterator[Phone]:
    yield Phone(client, app)
