"""X-Twilio-Signature on every webhook, checked against the public URL Twilio requested."""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import abort, current_app, request

from ringly.telephony.signatures import is_valid_signature

log = logging.getLogger(__name__)


def public_url() -> str:
    """The URL Twilio signed: our public base (not the Host behind a proxy) + path + query."""
    url = current_app.config["WEBHOOK_BASE_URL"] + request.path
    query = request.query_string.decode("latin-1")
    return f"{url}?{query}" if query else url


def signature_is_valid() -> bool:
    if not current_app.config.get("VALIDATE_TWILIO_SIGNATURES", True):
        return True
    return is_valid_signature(
        current_app.config["TWILIO_AUTH_TOKEN"],
        public_url(),
        request.form,
        request.headers.get("X-Twilio-Signature"),
    )


def twilio_webhook(view: Callable[..., Any]) -> Callable[..., Any]:
    """Reject (403, nothing recorded) a request whose signature is missing, wrong or elsewhere's."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if not signature_is_valid():
            log.warning("rejected an unsigned or mis-signed webhook for %s", request.path)
            abort(403)
        return view(*args, **kwargs)

    return checked
