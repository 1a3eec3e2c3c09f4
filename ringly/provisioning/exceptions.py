"""Provisioning outcomes a saga step can end with (no HTTP knowledge)."""
from __future__ import annotations


class RetryLater(Exception):
    """The job stopped at a recovery point and should run again after `delay` seconds."""

    def __init__(self, delay: float, reason: str) -> None:
        super().__init__(reason)
        self.delay = delay


class JobFailed(Exception):
    """The job cannot succeed; it ends `failed` with this code and message."""

    def __init__(self, code: str, message: str, twilio_code: int | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.twilio_code = code, message, twilio_code
