"""X-Twilio-Signature: compute and check it exactly as Twilio does (HMAC-SHA1, base64)."""

from __future__ import annotations

import base64
import functools
import hmac
from collections.abc import Mapping
from hashlib import sha1
from urllib.parse import urlparse

from twilio.request_validator import RequestValidator, add_port, remove_port


def sign_request(auth_token: str, url: str, params: Mapping[str, object]) -> str:
    """The signature Twilio would send for a form POST of ``params`` to ``url``.

    The twilio library's own code: the sandbox signs with it, so the check below is tested
    against the reference rather than against itself."""
    return RequestValidator(auth_token).compute_signature(url, params)


def is_valid_signature(
    auth_token: str, url: str, params: Mapping[str, object], signature: str | None
) -> bool:
    """Check ``signature`` in constant time; ``params`` may be a MultiDict (all values count).

    The same bytes and the same answers as twilio's ``RequestValidator.validate`` for a form
    POST (tests/telephony/test_signatures.py compares them), without its per-request work: the
    URL's two spellings are worked out once per URL, the parameters are joined once, and the
    keyed hash is copied instead of rebuilt for each spelling."""
    if not signature or not signature.isascii():
        return False  # a base64 HMAC is ASCII: nothing else can match
    expected = signature.encode("ascii")
    signed_params = _joined_params(params)
    keyed = _keyed_sha1(auth_token)
    for candidate in _url_spellings(url):  # the URL as given first: what Twilio usually signs
        mac = keyed.copy()
        mac.update(candidate)
        mac.update(signed_params)
        if hmac.compare_digest(base64.b64encode(mac.digest()), expected):
            return True
    return False


@functools.lru_cache(maxsize=8)
def _keyed_sha1(auth_token: str) -> hmac.HMAC:
    return hmac.new(auth_token.encode("utf-8"), digestmod=sha1)


@functools.lru_cache(maxsize=4096)
def _url_spellings(url: str) -> tuple[bytes, ...]:
    """The URL without and with its port (Twilio's signing is inconsistent about the default
    port, so its validator accepts either), in the library's own spelling; the one that is the
    URL as given comes first."""
    parsed = urlparse(url)
    spellings = sorted({remove_port(parsed), add_port(parsed)}, key=lambda it: it != url)
    return tuple(spelling.encode("utf-8") for spelling in spellings)


def _joined_params(params: Mapping[str, object]) -> bytes:
    """Every parameter name followed by each of its distinct values, names and values sorted."""
    lists = getattr(params, "lists", None)  # a MultiDict: every value of each name at once
    if lists is not None:
        pairs = sorted(lists())
    else:
        getall = getattr(params, "getall", None) or getattr(params, "getlist", None)
        pairs = sorted((name, getall(name) if getall is not None else [params[name]])
                       for name in set(params))
    parts = []
    for name, values in pairs:
        for value in (values if len(values) == 1 else sorted(set(values))):
            parts.append(name + value)
    return "".join(parts).encode("utf-8")
