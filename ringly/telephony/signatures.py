"""X-Twilio-Signature: compute and check it exactly as Twilio does (HMAC-SHA1, base64)."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator


def sign_request(auth_token: str, url: str, params: Mapping[str, object]) -> str:
    """The signature Twilio would send for a form POST of ``params`` to ``url``."""
    return RequestValidator(auth_token).compute_signature(url, params)


def is_valid_signature(
    auth_token: str, url: str, params: Mapping[str, object], signature: str | None
) -> bool:
    """Check ``signature`` in constant time; ``params`` may be a MultiDict (all values count)."""
    if not signature:
        return False
    return RequestValidator(auth_token).validate(url, params, signature)
