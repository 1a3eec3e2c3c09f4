"""X-Twilio-Signature helpers agree with the twilio library's RequestValidator."""

from __future__ import annotations

from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from ringly.telephony.signatures import is_valid_signature, sign_request

URL = "https://ringly.example/voice/incoming?client=42"
PARAMS = {"CallSid": "CA" + "1" * 32, "From": "+14155550100", "To": "+12125550123"}


def test_signature_is_accepted_by_twilio_request_validator():
    signature = sign_request("secret-token", URL, PARAMS)
    assert RequestValidator("secret-token").validate(URL, PARAMS, signature)
    assert is_valid_signature("secret-token", URL, PARAMS, signature)


def test_signature_fails_for_other_token_changed_params_or_missing_header():
    signature = sign_request("secret-token", URL, PARAMS)
    assert not is_valid_signature("other-token", URL, PARAMS, signature)
    assert not is_valid_signature("secret-token", URL, {**PARAMS, "To": "+19999999999"}, signature)
    assert not is_valid_signature("secret-token", URL, PARAMS, None)


def test_signature_covers_every_value_of_a_repeated_form_field():
    form = MultiDict([("Digits", "1"), ("Digits", "2"), ("CallSid", "CA" + "2" * 32)])
    signature = sign_request("secret-token", URL, form)
    assert is_valid_signature("secret-token", URL, form, signature)
    assert not is_valid_signature(
        "secret-token", URL, MultiDict([("Digits", "1"), ("CallSid", "CA" + "2" * 32)]), signature
    )
