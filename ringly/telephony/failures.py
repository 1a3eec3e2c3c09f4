"""Turn twilio-library and requests failures into TelephonyError subclasses."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.response import Response

from ringly.telephony.exceptions import (
    NumberNotFound,
    PermanentTelephonyError,
    TelephonyError,
    TransientTelephonyError,
)

log = logging.getLogger(__name__)

NOT_FOUND_CODE = 20404


def retry_after_seconds(response: Response | None) -> float | None:
    """Read ``Retry-After`` (seconds or an HTTP date) from a response, if any."""
    if response is None or not response.headers:
        return None
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def _body_code_and_message(response: Response) -> tuple[int | None, str | None]:
    try:
        body = json.loads(response.text or "")
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    code = body.get("code")
    return (code if isinstance(code, int) else None), body.get("message")


def classify_status(
    status: int | None,
    code: int | None,
    message: str,
    *,
    mutating: bool,
    lookup: bool,
    last_response: Response | None,
) -> TelephonyError:
    """Map an HTTP status and Twilio code onto our error classes."""
    if status is not None and (status == 429 or status >= 500):
        return TransientTelephonyError(
            message,
            status=status,
            twilio_code=code,
            retry_after=retry_after_seconds(last_response),
            # A 429 was never processed; a 5xx on a write may have been.
            outcome_unknown=mutating and status >= 500,
        )
    if lookup and (status == 404 or code == NOT_FOUND_CODE):
        return NumberNotFound(message, status=status, twilio_code=code)
    return PermanentTelephonyError(message, status=status, twilio_code=code)


def _request_never_sent(error: requests.RequestException) -> bool:
    if isinstance(error, requests.ConnectTimeout):
        return True
    text = repr(error)
    # urllib3 wraps "could not connect" as NewConnectionError / connection refused.
    return "NewConnectionError" in text or "ConnectionRefused" in text or "Name or service" in text


def translate_failure(
    error: Exception,
    *,
    operation: str,
    mutating: bool,
    lookup: bool = False,
    last_response: Response | None = None,
) -> TelephonyError:
    """Return the TelephonyError for ``error`` raised while doing ``operation``."""
    if isinstance(error, TwilioRestException):
        return classify_status(
            error.status,
            error.code if isinstance(error.code, int) else None,
            f"{operation}: {error.msg}",
            mutating=mutating,
            lookup=lookup,
            last_response=last_response,
        )
    if isinstance(error, requests.RequestException):
        sent = not _request_never_sent(error)
        # The full text (pool internals, URLs) goes to the log, not into answers to API users.
        log.warning("%s: %s: %s", operation, type(error).__name__, error)
        return TransientTelephonyError(
            f"{operation}: {_describe_connection_failure(error)}",
            # Reads have no effect, but "may have been processed" is still the honest answer.
            outcome_unknown=sent,
        )
    if isinstance(error, TwilioException):
        # List/page calls raise a plain TwilioException("Unable to fetch page", response);
        # the status lives on that response (or on this thread's last response).
        response = next((arg for arg in error.args if isinstance(arg, Response)), None)
        response = response or last_response
        status = getattr(error, "status", None) or (response.status_code if response else None)
        code, body_message = _body_code_and_message(response) if response else (None, None)
        code = code if code is not None else getattr(error, "code", None)
        text = body_message or (str(error.args[0]) if error.args else type(error).__name__)
        return classify_status(
            status,
            code if isinstance(code, int) else None,
            f"{operation}: {text}",
            mutating=mutating,
            lookup=lookup,
            last_response=response,
        )
    raise TypeError(f"not a Twilio or HTTP failure: {error!r}") from error


def _describe_connection_failure(error: requests.RequestException) -> str:
    if isinstance(error, requests.Timeout):
        return "no answer within the timeout"
    if isinstance(error, requests.ConnectionError):
        return "could not connect, or the connection broke"
    return f"request failed ({type(error).__name__})"
