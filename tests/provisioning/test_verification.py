"""The signed synthetic call that a job must pass before it completes."""
from __future__ import annotations

import pytest

from ringly.provisioning.verification import VerificationFailed, verify_voice_entry


def test_voice_entry_answers_a_signed_call_with_twiml(prov, live_server):
    verify_voice_entry(f"{live_server.url}/voice/rachel/", "+14155550100")


def test_a_url_that_is_not_the_voice_entry_fails_verification(prov, live_server):
    with pytest.raises(VerificationFailed, match="answered 404"):
        verify_voice_entry(f"{live_server.url}/voice/nowhere/", "+14155550100")


def test_an_unreachable_voice_url_fails_verification(prov):
    with pytest.raises(VerificationFailed, match="did not answer"):
        verify_voice_entry("http://127.0.0.1:9/voice/rachel/", "+14155550100")
