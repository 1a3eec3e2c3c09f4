"""Whatever a caller presses or says at any step, Rachel and Lina answer with a TwiML document
that speaks and then listens, records, connects or says goodbye: never a server error, never
silence."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringly.booking.models import Appointment
from ringly.booking.slots import zone
from ringly.db import db, utcnow
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
                     ("say", "tomorrow at 11 am")],
    "lina-book-time": [("press", "2"), ("press", "1"), ("say", "María López"),
                       ("press", "1")],
    # 10 am tomorrow is taken (see below): the caller is offered the nearest free times.
    "book-pick": [("press", "1"), ("press", "1"), ("say", "Maria Lopez"), ("press", "1"),
                  ("say", "tomorrow at 10 am")],
    "dial": [("press", "1"), ("press", "4")],
}
NEXT = ("Gather", "Record", "Dial", "Hangup", "Redirect")

def take_ten_tomorrow(app, client_id: int) -> None:
    tz = zone("America/Chicago")
    day = (utcnow().astimezone(tz) + timedelta(days=1)).date()
    ten = datetime(day.year, day.month, day.day, 10, tzinfo=tz)
    with app.app_context():
        db.session.add(Appointment(client_id=client_id, customer_name="Earlier",
                                   customer_phone="+13125550777", starts_at=ten,
                                   ends_at=ten + timedelta(minutes=30), status="booked",
                                   confirmation_code="TAKEN1"))
        db.session.commit()
        db.session.remove()


keys = st.text(alphabet="0123456789*#", max_size=12)
words = st.text(max_size=120)


@pytest.mark.parametrize("step", sorted(ROUTES))
def test_any_input_at_any_step_gets_an_answer_that_speaks(app, client, step):
    client_id = make_client(app, forwarding_number="+13125550123")
    take_ten_tomorrow(app, client_id)

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
        waiting = next(element for element in phone.last
                       if element.tag in ("Gather", "Record", "Dial"))
        assert f"/{step.removeprefix('lina-')}/" in waiting.get("action")
        root = phone.post(waiting.get("action"), Digits=digits, SpeechResult=speech,
                          Confidence="0.5", DialCallStatus="no-answer")
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

