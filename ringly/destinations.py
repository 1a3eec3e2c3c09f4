"""Which numbers Ringly may text or dial: one country and number-type rule for every domain."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import phonenumbers
from flask import current_app
from phonenumbers import PhoneNumberType

# Only numbers a person answers at an ordinary price. Premium-rate and shared-cost numbers
# bill the sender (SMS pumping pays their owners); toll-free, UAN, personal and pager ranges
# are routing services whose cost and owner a number cannot show; VoIP-only ranges (where a
# country allocates them) are the cheap throw-away numbers pumping rings rent; UNKNOWN is a
# range libphonenumber cannot place. US and Canadian numbers are all FIXED_LINE_OR_MOBILE.
ALLOWED_TYPES = frozenset({
    PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE,
})
TYPE_NAMES = {
    PhoneNumberType.TOLL_FREE: "toll-free",
    PhoneNumberType.PREMIUM_RATE: "premium-rate",
    PhoneNumberType.SHARED_COST: "shared-cost",
    PhoneNumberType.VOIP: "VoIP",
    PhoneNumberType.PERSONAL_NUMBER: "personal (follow-me)",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "universal access (UAN)",
    PhoneNumberType.VOICEMAIL: "voicemail access",
    PhoneNumberType.UNKNOWN: "unknown-type",
}


@dataclass(frozen=True)
class Refusal:
    """Why a text or a call is not made: a stable code and a sentence a person can act on."""

    code: str
    detail: str

    def __str__(self) -> str:
        return self.detail


def allowed_countries(home_country: str | None) -> frozenset[str]:
    """ALLOWED_DESTINATION_COUNTRIES when set, else only the client's own country."""
    configured = current_app.config.get("ALLOWED_DESTINATION_COUNTRIES") or ()
    if configured:
        return frozenset(configured)
    return frozenset({home_country.upper()}) if home_country else frozenset()


def check_destination(number: str | None, countries: Collection[str]) -> Refusal | None:
    """None when `number` (E.164) may be texted or dialled, else the reason it may not."""
    digits = (number or "")[1:]
    if not number or not number.startswith("+") or not (digits.isascii() and digits.isdigit()):
        # Short codes ("12345"), alphanumeric senders ("ACME"), SIP and channel addresses.
        return Refusal("not_a_phone_number",
                       "not an E.164 phone number (a short code, a name or another address)")
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return Refusal("invalid_number", "not a valid phone number")
    if not phonenumbers.is_valid_number(parsed):
        return Refusal("invalid_number", "not a valid phone number")
    country = phonenumbers.region_code_for_number(parsed) or "unknown"
    if country not in countries:
        allowed = ", ".join(sorted(countries)) or "none"
        return Refusal("country_not_allowed",
                       f"numbers in {country} are not allowed (allowed countries: {allowed})")
    number_type = phonenumbers.number_type(parsed)
    if number_type not in ALLOWED_TYPES:
        name = TYPE_NAMES.get(number_type, "unknown-type")
        return Refusal("number_type_not_allowed",
                       f"{name} numbers are not allowed (only fixed-line and mobile numbers)")
    return None


def check_client_destination(number: str | None, home_country: str | None) -> Refusal | None:
    """`check_destination` with the countries allowed for a client in `home_country`."""
    return check_destination(number, allowed_countries(home_country))
