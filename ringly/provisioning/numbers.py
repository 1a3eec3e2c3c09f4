"""What a Ringly number should look like at Twilio: its webhooks and its findable name."""
from __future__ import annotations

from flask import current_app

from ringly.telephony import WebhookConfig

TOLL_FREE_PREFIXES = ("800", "833", "844", "855", "866", "877", "888")


def desired_webhooks() -> WebhookConfig:
    """Every webhook a Ringly number needs, all POST; the fallback is never the primary URL."""
    base = current_app.config["WEBHOOK_BASE_URL"].rstrip("/")
    fallback_base = (current_app.config.get("WEBHOOK_FALLBACK_BASE_URL") or base).rstrip("/")
    return WebhookConfig(
        voice_url=f"{base}/voice/rachel/",
        voice_fallback_url=f"{fallback_base}/voice/fallback",
        sms_url=f"{base}/webhook/twilio/sms",
        status_callback=f"{base}/webhook/twilio/status",
    )


def friendly_name(business_name: str, tag: str) -> str:
    """'<business> - Ringly <tag>' (at most 64 characters): exact-match findable by the tag."""
    return f"{business_name.strip()[:40]} - Ringly {tag}"


def tag_from_friendly_name(name: str | None) -> str | None:
    """The job tag a Ringly number carries in its FriendlyName, if it has one."""
    if not name or " - Ringly " not in name:
        return None
    tag = name.rsplit(" - Ringly ", 1)[1].strip()
    return tag or None


def number_type_of(phone_number: str) -> str:
    """local or toll_free, from the NANP prefix (Twilio's create response does not say)."""
    digits = phone_number.removeprefix("+1")
    return "toll_free" if phone_number.startswith("+1") and digits[:3] in TOLL_FREE_PREFIXES \
        else "local"
