"""Telephony: the only code that knows Twilio's REST API, behind TwilioGateway."""

from __future__ import annotations

from flask import Flask, current_app

from ringly.telephony.exceptions import (
    InvalidPageToken,
    NumberNotFound,
    PermanentTelephonyError,
    TelephonyError,
    TransientTelephonyError,
)
from ringly.telephony.gateway import TwilioGateway
from ringly.telephony.signatures import is_valid_signature, sign_request
from ringly.telephony.types import (
    AvailableNumber,
    IncomingNumber,
    NumberPage,
    SentMessage,
    ServiceNumber,
    WebhookConfig,
)

__all__ = [
    "AvailableNumber",
    "IncomingNumber",
    "InvalidPageToken",
    "NumberNotFound",
    "NumberPage",
    "PermanentTelephonyError",
    "SentMessage",
    "ServiceNumber",
    "TelephonyError",
    "TransientTelephonyError",
    "TwilioGateway",
    "WebhookConfig",
    "get_gateway",
    "init_app",
    "is_valid_signature",
    "sign_request",
]


def init_app(app: Flask) -> None:
    """Build the app's gateway from ``app.config`` and keep it in ``app.extensions``."""
    config = app.config
    app.extensions["telephony"] = TwilioGateway(
        account_sid=config["TWILIO_ACCOUNT_SID"],
        auth_token=config["TWILIO_AUTH_TOKEN"],
        base_url=config.get("TWILIO_API_BASE_URL") or None,
        connect_timeout=float(config.get("TWILIO_CONNECT_TIMEOUT", 3.05)),
        read_timeout=float(config.get("TWILIO_READ_TIMEOUT", 10)),
    )


def get_gateway() -> TwilioGateway:
    """The current app's gateway (call inside an app context)."""
    return current_app.extensions["telephony"]
