"""Render sandbox records as the exact JSON resources of Twilio's 2010-04-01 API."""

from __future__ import annotations

import math
import re
import secrets
from datetime import UTC, datetime
from email.utils import format_datetime

from ringly.sandbox.inventory import CatalogNumber

API_VERSION = "2010-04-01"
SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")

# Incoming-number webhook fields: form parameter -> resource field, and their defaults.
NUMBER_URL_FIELDS = {
    "VoiceUrl": "voice_url",
    "VoiceFallbackUrl": "voice_fallback_url",
    "StatusCallback": "status_callback",
    "SmsUrl": "sms_url",
    "SmsFallbackUrl": "sms_fallback_url",
}
NUMBER_METHOD_FIELDS = {
    "VoiceMethod": "voice_method",
    "VoiceFallbackMethod": "voice_fallback_method",
    "StatusCallbackMethod": "status_callback_method",
    "SmsMethod": "sms_method",
    "SmsFallbackMethod": "sms_fallback_method",
}
NUMBER_OTHER_FIELDS = {
    "FriendlyName": "friendly_name",
    "VoiceCallerIdLookup": "voice_caller_id_lookup",
    "VoiceReceiveMode": "voice_receive_mode",
    "VoiceApplicationSid": "voice_application_sid",
    "SmsApplicationSid": "sms_application_sid",
    "TrunkSid": "trunk_sid",
    "AddressSid": "address_sid",
    "BundleSid": "bundle_sid",
    "IdentitySid": "identity_sid",
    "EmergencyStatus": "emergency_status",
    "EmergencyAddressSid": "emergency_address_sid",
    "ApiVersion": "api_version",
}


def new_sid(prefix: str) -> str:
    """A Twilio-style SID: two-letter prefix plus 32 random hex digits."""
    return prefix + secrets.token_hex(16)


def rfc2822_now() -> str:
    return format_datetime(datetime.now(UTC).replace(microsecond=0), usegmt=False)


def iso8601_now() -> str:
    """The newer APIs' (Messaging v1) date format: ``2015-07-30T20:12:31Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def number_resource(
    *, account_sid: str, sid: str, number: CatalogNumber, params: dict[str, str]
) -> dict:
    """Build a full IncomingPhoneNumber resource from a sold number and the create params."""
    now = rfc2822_now()
    resource: dict = {
        "account_sid": account_sid,
        "address_sid": None,
        "address_requirements": "none",
        "api_version": API_VERSION,
        "beta": False,
        "capabilities": number.capabilities(),
        "date_created": now,
        "date_updated": now,
        "friendly_name": number.friendly_name,
        "identity_sid": None,
        "phone_number": number.phone_number,
        "origin": "twilio",
        "sid": sid,
        "sms_application_sid": None,
        "sms_fallback_method": "POST",
        "sms_fallback_url": "",
        "sms_method": "POST",
        "sms_url": "",
        "status_callback": "",
        "status_callback_method": "POST",
        "trunk_sid": None,
        "uri": f"/{API_VERSION}/Accounts/{account_sid}/IncomingPhoneNumbers/{sid}.json",
        "voice_receive_mode": "voice",
        "voice_application_sid": None,
        "voice_caller_id_lookup": False,
        "voice_fallback_method": "POST",
        "voice_fallback_url": "",
        "voice_method": "POST",
        "voice_url": "",
        "emergency_status": "Inactive",
        "emergency_address_sid": None,
        "emergency_address_status": "unregistered",
        "bundle_sid": None,
        "status": "in-use",
        "type": number.number_type,
    }
    apply_number_params(resource, params, stamp=False)
    return resource


def apply_number_params(resource: dict, params: dict[str, str], *, stamp: bool = True) -> None:
    """Copy the webhook/config form params Twilio accepts onto a number resource."""
    for param, field in {**NUMBER_URL_FIELDS, **NUMBER_OTHER_FIELDS}.items():
        if param in params:
            value: object = params[param]
            if field == "voice_caller_id_lookup":
                value = str(value).lower() == "true"
            resource[field] = value
    for param, field in NUMBER_METHOD_FIELDS.items():
        if param in params:
            resource[field] = params[param].upper()
    if stamp:
        resource["date_updated"] = rfc2822_now()


def available_resource(number: CatalogNumber) -> dict:
    """One entry of an AvailablePhoneNumbers search answer."""
    return {
        "friendly_name": number.friendly_name,
        "phone_number": number.phone_number,
        "lata": number.lata,
        "locality": number.locality,
        "rate_center": number.rate_center,
        # Strings, as live Twilio and the spec's own examples send them (the schema says number).
        "latitude": number.latitude,
        "longitude": number.longitude,
        "region": number.region,
        "postal_code": number.postal_code,
        "iso_country": "US",
        "address_requirements": "none",
        "beta": False,
        "capabilities": number.capabilities(),
    }


def message_segments(body: str) -> int:
    # GSM-7 fits 160 per single SMS, 153 per concatenated part; anything else is UCS-2.
    gsm = all(ord(ch) < 128 for ch in body)
    single, part = (160, 153) if gsm else (70, 67)
    return 1 if len(body) <= single else math.ceil(len(body) / part)


def message_resource(
    *,
    account_sid: str,
    sid: str,
    to: str,
    from_: str,
    body: str,
    messaging_service_sid: str | None = None,
) -> dict:
    """Build an outbound Message resource: `queued`, or `accepted` when sent through a service."""
    now = rfc2822_now()
    base = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}"
    return {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": body,
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": from_,
        "messaging_service_sid": messaging_service_sid,
        "num_media": "0",
        "num_segments": str(message_segments(body)),
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "accepted" if messaging_service_sid else "queued",
        "subresource_uris": {"media": f"{base}/Media.json"},
        "to": to,
        "uri": f"{base}.json",
    }


# Messaging v1 spells capabilities as a list of these names.
SERVICE_CAPABILITY_NAMES = {"mms": "MMS", "sms": "SMS", "voice": "Voice"}


def service_number_resource(
    *, account_sid: str, member: dict, base_url: str
) -> dict:
    """One number of a Messaging Service (Messaging v1 PhoneNumber resource)."""
    number = member["number"]
    service_sid = member["service_sid"]
    capabilities = number.get("capabilities") or {}
    return {
        "sid": number["sid"],
        "account_sid": account_sid,
        "service_sid": service_sid,
        "date_created": member["date_created"],
        "date_updated": member["date_created"],
        "phone_number": number["phone_number"],
        "country_code": "US",
        "capabilities": sorted(
            name for key, name in SERVICE_CAPABILITY_NAMES.items() if capabilities.get(key)
        ),
        "url": f"{base_url.rstrip('/')}/v1/Services/{service_sid}/PhoneNumbers/{number['sid']}",
    }
