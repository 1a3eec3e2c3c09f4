"""X-Twilio-Signature on every webhook, checked against the public URL Twilio requested."""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import abort, current_app, request

from ringly.telephony.signatures import is_valid_signature

log = logging.getLogger(__name__)

MAIN_BASE = ("WEBHOOK_BASE_URL",)
# The voice fallback may live on a host of its own; Twilio signs the URL it requested there.
FALLBACK_BASES = ("WEBHOOK_BASE_URL", "WEBHOOK_FALLBACK_BASE_URL")


def public_url(base_setting: str = "WEBHOOK_BASE_URL") -> str:
    """The URL Twilio signed: a public base (not the Host behind a proxy) + path + query."""
    url = current_app.config[base_setting] + request.path
    query = request.query_string
    return f"{url}?{query.decode('latin-1')}" if query else url


def signature_is_valid(base_settings: tuple[str, ...] = MAIN_BASE) -> bool:
    config = current_app.config
    if not config.get("VALIDATE_TWILIO_SIGNATURES", True):
        return True
    signature = request.environ.get("HTTP_X_TWILIO_SIGNATURE")  # request.headers, less work
    if not signature:
        return False  # before the form is even parsed
    token = config["TWILIO_AUTH_TOKEN"]
    urls = dict.fromkeys(public_url(setting) for setting in base_settings if config.get(setting))
    return any(is_valid_signature(token, url, request.form, signature) for url in urls)


def _checked_against(base_settings: tuple[str, ...]) -> Callable[..., Any]:
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if not signature_is_valid(base_settings):
                log.warning("rejected an unsigned or mis-signed webhook for %s", request.path)
                abort(403)
            return view(*args, **kwargs)

        return checked

    return decorator


# Reject (403, nothing recorded) a request whose signature is missing, wrong or elsewhere's.
twilio_webhook = _checked_against(MAIN_BASE)
# The same, for the voice fallback's own routes only: signed for either public base.
twilio_fallback_webhook = _checked_against(FALLBACK_BASES)
