"""Telephony errors, free of Twilio types, classified by whether a retry can help."""

from __future__ import annotations


class TelephonyError(Exception):
    """A Twilio call failed: ``status`` is the HTTP status, ``twilio_code`` Twilio's code."""

    def __init__(
        self, message: str, *, status: int | None = None, twilio_code: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.twilio_code = twilio_code

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status={self.status}, "
            f"twilio_code={self.twilio_code})"
        )


class TransientTelephonyError(TelephonyError):
    """429, 5xx, connection failures and timeouts: worth retrying later.

    ``outcome_unknown`` is True when Twilio may have acted on the request (the connection
    broke or timed out after it was sent, or a write got a 5xx): before retrying a purchase,
    look the number up instead of buying blindly.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        twilio_code: int | None = None,
        retry_after: float | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message, status=status, twilio_code=twilio_code)
        self.retry_after = retry_after
        self.outcome_unknown = outcome_unknown


class PermanentTelephonyError(TelephonyError):
    """Any other 4xx (bad number, sold out area code, bad credentials...): retrying won't help."""


class NumberNotFound(PermanentTelephonyError):
    """20404: the number SID is unknown to the account or already released."""


class InvalidPageToken(PermanentTelephonyError):
    """A page token that this gateway did not hand out."""
