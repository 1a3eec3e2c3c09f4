"""TwiML leaves Ringly exactly as the twilio library writes it, without its ElementTree."""
from __future__ import annotations

import pytest
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from ringly.telephony.twiml import to_text
from ringly.voice import flow
from ringly.voice.flow import Scene

AWKWARD = "Ana & <Bob> \"quoted\" 'apostrophe'\ttab\nline\rreturn ñ 日本 😀"


def _scenes() -> list[Scene]:
    played = {("For English, press 1 or say English.", "en")}
    return [
        Scene("en", "https://ringly.example", 3),
        Scene("es", "https://ringly.example:8443/prefix", 12),
        Scene("en", "https://ringly.example", 4,
              lambda text, locale: "https://ringly.example/audio/ab.mp3"
              if (text, locale) in played else None),
    ]


def _documents() -> list[VoiceResponse | MessagingResponse]:
    documents: list[VoiceResponse | MessagingResponse] = []
    lines = [("For English, press 1 or say English.", "en"), (AWKWARD, "es"), ("", "en")]
    for scene in _scenes():
        documents += [
            flow.ask(scene, lines, "book-name", num_digits=None, timeout=6),
            flow.ask(scene, lines[:1], "language", hints="English, español, Spanish"),
            flow.ask(scene, [], "book-pick", speech=False),
            flow.finish(scene, lines),
            flow.finish(scene, []),
            flow.record(scene, lines, "voicemail", "https://ringly.example/voice/rachel/t"),
            flow.dial(scene, lines, "+13125550142", "+13125550100", "dial"),
            flow.dial(scene, [], "+13125550142", None, "dial"),
            flow.bilingual_goodbye(scene, "unknown_number"),
        ]
    documents += [flow.fallback("https://fallback.example"), flow.fallback_thanks()]
    # What the library allows beyond Ringly's own documents: text then elements, tails,
    # booleans, JSON values, an empty document.
    odd = VoiceResponse()
    odd.append(AWKWARD)
    odd.say("one", voice="Polly.Joanna-Neural", language="en-US")
    odd.append("tail & <more>")
    odd.append("tail replaced")
    odd.pause(length=2)
    odd.record(play_beep=False, transcribe=True, max_length=0)
    odd.add_child("Custom", {"a": 1}, some_attribute=AWKWARD)
    odd.add_child("Empty", "")
    documents += [odd, VoiceResponse()]
    reply = MessagingResponse()
    reply.message(AWKWARD)
    documents.append(reply)
    return documents


DOCUMENTS = _documents()


@pytest.mark.parametrize("document", DOCUMENTS, ids=[str(n) for n in range(len(DOCUMENTS))])
def test_a_document_is_written_as_the_twilio_library_writes_it(document):
    text = to_text(document)
    assert text == str(document)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?><Response')


def test_a_lone_surrogate_is_written_as_elementtree_does():
    document = VoiceResponse()
    document.say("broken \ud800 half")
    assert to_text(document) == str(document)
    assert "&#55296;" in to_text(document)
