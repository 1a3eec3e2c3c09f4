"""Convert twilio-library resource instances into Ringly's telephony value types."""

from __future__ import annotations

from typing import Any

from ringly.telephony.types import AvailableNumber, IncomingNumber, SentMessage

# Twilio's resource "type" for numbers, in our spelling (matches search number_type).
NUMBER_TYPES = {"toll-free": "toll_free", "tollfree": "toll_free"}


def capabilities_of(raw: Any) -> dict[str, bool]:
    """Lower-case capability keys (XML spells SMS/MMS) into plain booleans."""
    if not isinstance(raw, dict):
        return {}
    return {str(key).lower(): bool(value) for key, value in raw.items()}


def _blank_to_none(value: str | None) -> str | None:
    # Twilio reports unset URLs as "" or null; treat both as "not set".
    return value or None


def incoming_number_from(instance: Any) -> IncomingNumber:
    number_type = instance.type
    return IncomingNumber(
        sid=instance.sid,
        phone_number=instance.phone_number,
        friendly_name=instance.friendly_name,
        voice_url=_blank_to_none(instance.voice_url),
        voice_method=instance.voice_method,
        voice_fallback_url=_blank_to_none(instance.voice_fallback_url),
        voice_fallback_method=instance.voice_fallback_method,
        sms_url=_blank_to_none(instance.sms_url),
        sms_method=instance.sms_method,
        status_callback=_blank_to_none(instance.status_callback),
        status_callback_method=instance.status_callback_method,
        capabilities=capabilities_of(instance.capabilities),
        status=instance.status,
        number_type=NUMBER_TYPES.get(number_type, number_type) if number_type else None,
        date_created=instance.date_created,
    )


def available_number_from(instance: Any, number_type: str) -> AvailableNumber:
    return AvailableNumber(
        phone_number=instance.phone_number,
        friendly_name=instance.friendly_name,
        locality=instance.locality,
        region=instance.region,
        postal_code=instance.postal_code,
        iso_country=instance.iso_country,
        capabilities=capabilities_of(instance.capabilities),
        number_type=number_type,
    )


def sent_message_from(instance: Any) -> SentMessage:
    return SentMessage(
        sid=instance.sid,
        status=instance.status,
        to=instance.to,
        from_=instance.from_,
        body=instance.body,
    )
