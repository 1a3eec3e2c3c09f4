"""The entry webhook: the language menu, and a polite goodbye for numbers Ringly does not answer."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from ringly.db import db
from ringly.voice.models import Call
from tests.voice.conftest import make_client, parse_twiml, signed_post, spoken

pytestmark = pytest.mark.smoke


def test_entry_offers_the_language_menu_in_english_and_spanish(app, phone):
    make_client(app)
    root = phone.dial_in()
    gather = root.find("Gather")
    assert gather is not None and "dtmf" in gather.get("input")
    heard = spoken(gather)
    assert heard[0] == ("For English, press 1 or say English.", "en-US")
    assert heard[1] == ("Para español, oprima 2 o diga español.", "es-US")
    voices = [say.get("voice") for say in gather.iter("Say")]
    assert voices == ["Polly.Joanna-Neural", "Polly.Lupe-Neural"]
    assert root.find("Redirect") is not None  # silence has somewhere to go
    with app.app_context():
        call = db.session.scalar(sa.select(Call))
        assert call.call_sid == phone.call_sid and call.step == "language"


def test_unknown_number_hears_a_polite_bilingual_goodbye(app, phone):
    make_client(app)
    phone.to = "+13125550111"
    root = phone.dial_in()
    heard = spoken(root)
    assert "not in service" in heard[0][0] and heard[0][1] == "en-US"
    assert "no está en servicio" in heard[1][0] and heard[1][1] == "es-US"
    assert root.find("Hangup") is not None
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Call)) == 0


def test_disabled_client_gets_the_same_goodbye_and_no_menu(app, phone):
    make_client(app, rachel_enabled=False)
    root = phone.dial_in()
    assert root.find("Gather") is None and root.find("Hangup") is not None
    assert "not in service" in spoken(root)[0][0]


def test_replayed_entry_gets_the_same_document_and_one_call_row(app, phone):
    make_client(app)
    first = phone.dial_in()
    second = phone.dial_in()
    assert [e.attrib for e in first.iter()] == [e.attrib for e in second.iter()]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Call)) == 1


def test_fallback_apologises_in_both_languages_and_records(app, client):
    response = signed_post(client, app, "/voice/fallback", {"CallSid": "CA" + "1" * 32,
                                                             "ErrorCode": "11200"})
    root = parse_twiml(response.data)
    texts = [text for text, _ in spoken(root)]
    assert "trouble answering" in texts[0] and "problemas para atenderle" in texts[1]
    assert root.find("Record").get("action").endswith("/voice/fallback/recorded")
    assert root.find("Hangup") is not None
