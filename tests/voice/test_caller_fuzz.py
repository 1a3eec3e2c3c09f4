"""Whatever a caller presses or says at any step, Rachel and Lina answer with a TwiML document
that speaks and then listens, records, connects or says goodbye: never a server error, never
silence."""
from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.voice.conftest import Phone, make_client, spoken

pytestmark = pytest.mark.smoke

# From the first webhook to each step: what the caller does on the way.
ROUTES = {
    "language": [],
    "intent": [("press", "1")],
    "voicemail": [("press", "1"), ("press", "2")],
    "book-name": [("press", "1"), ("press", "1")],
    "book-phone": [("press", "1"), ("press", "1"), ("say", "Maria Lopez")],
    "book-time": [("press", "1"), ("press", "1"), ("say", "Maria Lopez"), ("press", "1")],
    "book-confirm": [("press", "1"), ("press", "1"), ("say", "Maria Lopez"), ("press", "1"),
                     ("say", "tomorrow at 10 am")],
    "lina-book-time": [("press", "2"), ("press", "1"), ("say", "María López"),
                       ("press", "1")],
}
NEXT = ("Gather", "Record", "Dial", "Hangup", "Redirect")

keys = st.text(alphabet="0123456789*#", max_size=12)
words = st.text(max_size=120)


@pytest.mark.parametrize("step", sorted(ROUTES))
def test_any_input_at_any_step_gets_an_answer_that_speaks(app, client, step):
    make_client(app)

    @given(digits=keys, speech=words)
    @settings(max_examples=20, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def caller_does(digits: str, speech: str) -> None:
        # A new caller each time: a returning one would skip the language menu.
        phone = Phone(client, app, call_sid="CA" + uuid.uuid4().hex,
                      caller=f"+1312{uuid.uuid4().int % 10**7:07d}")
        phone.dial_in()
        for action, value in ROUTES[step]:
            getattr(phone, action)(value)
        listening = phone.last.find("Gather")
        target = listening.get("action") if listening is not None else \
            phone.last.find("Record").get("action")
        root = phone.post(target, Digits=digits, SpeechResult=speech, Confidence="0.5")
        assert spoken(root), "the caller heard nothing"
        assert any(root.find(tag) is not None for tag in NEXT), "the document leads nowhere"

    caller_does()


def test_characters_xml_cannot_carry_never_reach_the_document_or_the_database(app, client):
    make_client(app)
    phone = Phone(client, app)
    phone.dial_in()
    phone.press("1")
    phone.press("1")
    phone.say("Ma\x00ria\x0b Lo\x1fpez")  # Phone.post parses every answer as XML
    assert "Thanks, Ma ria Lo pez." in phone.said_last()

