"""Twilio-shaped API errors raised by sandbox routes and rendered in the legacy 2010 body."""

from __future__ import annotations

from flask import Response, jsonify


class TwilioApiError(Exception):
    """An error answered with Twilio's legacy body ``{code, message, more_info, status}``."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def to_response(self) -> Response:
        # No "type"/"title" keys: with them the twilio library would raise
        # TwilioServiceException instead of the TwilioRestException real 2010 errors give.
        response = jsonify(
            {
                "code": self.code,
                "message": self.message,
                "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
                "status": self.status,
            }
        )
        response.status_code = self.status
        return response


def not_found(what: str = "The requested resource was not found") -> TwilioApiError:
    return TwilioApiError(404, 20404, what)


def authenticate_error() -> TwilioApiError:
    return TwilioApiError(401, 20003, "Authenticate")


def too_many_requests() -> TwilioApiError:
    return TwilioApiError(429, 20429, "Too Many Requests")
