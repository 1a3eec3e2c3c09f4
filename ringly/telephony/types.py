"""Plain frozen values the gateway returns, so no Twilio type leaves ringly.telephony."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

WEBHOOK_METHOD = "POST"


@dataclass(frozen=True)
class AvailableNumber:
    """A number Twilio offers for sale."""

    phone_number: str
    friendly_name: str
    locality: str | None
    region: str | None
    postal_code: str | None
    iso_country: str | None
    capabilities: dict[str, bool]
    number_type: str  # "local" | "toll_free" | "mobile"


@dataclass(frozen=True)
class WebhookConfig:
    """The URLs Twilio calls for a number; every one is requested with POST."""

    voice_url: str | None = None
    voice_fallback_url: str | None = None
    sms_url: str | None = None
    status_callback: str | None = None


@dataclass(frozen=True)
class IncomingNumber:
    """A number the account owns, with its webhook configuration."""

    sid: str
    phone_number: str
    friendly_name: str | None
    voice_url: str | None
    voice_method: str | None
    voice_fallback_url: str | None
    voice_fallback_method: str | None
    sms_url: str | None
    sms_method: str | None
    status_callback: str | None
    status_callback_method: str | None
    capabilities: dict[str, bool] = field(default_factory=dict)
    status: str | None = None
    number_type: str | None = None
    date_created: datetime | None = None

    def matches(self, webhooks: WebhookConfig) -> bool:
        """True when every webhook URL equals ``webhooks`` and is requested with POST."""
        pairs = (
            (self.voice_url, self.voice_method, webhooks.voice_url),
            (self.voice_fallback_url, self.voice_fallback_method, webhooks.voice_fallback_url),
            (self.sms_url, self.sms_method, webhooks.sms_url),
            (self.status_callback, self.status_callback_method, webhooks.status_callback),
        )
        for current_url, method, wanted_url in pairs:
            if (current_url or None) != (wanted_url or None):
                return False
            if wanted_url and (method or "").upper() != WEBHOOK_METHOD:
                return False
        return True


@dataclass(frozen=True)
class NumberPage:
    """One page of owned numbers; ``next_page`` is an opaque token, None on the last page."""

    numbers: list[IncomingNumber]
    next_page: str | None


@dataclass(frozen=True)
class SentMessage:
    """An SMS Twilio accepted for delivery."""

    sid: str
    status: str
    to: str
    from_: str
    body: str


@dataclass(frozen=True)
class ServiceNumber:
    """A number in a Messaging Service's sender pool (``sid`` is the number's own PN sid)."""

    sid: str
    phone_number: str
    service_sid: str
