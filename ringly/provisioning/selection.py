"""Choosing a number: the one asked for, else the area code, nearby codes, then toll-free."""
from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

import phonenumbers

from ringly.provisioning.candidates import take_candidate
from ringly.provisioning.exceptions import JobFailed
from ringly.provisioning.models import ProvisioningJob
from ringly.provisioning.numbers import number_type_of
from ringly.telephony import PermanentTelephonyError, get_gateway
from ringly.telephony.area_codes import nearby_area_codes, state_for_area_code

log = logging.getLogger(__name__)

NO_NUMBERS = 21452
# Twilio's `Contains` takes at most 16 characters.
MAX_CONTAINS = 16


def search_plan(request: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    """(number type, area code, why) in the order a job should try them."""
    if request.get("tollFree"):
        return [("toll_free", None, "toll-free number as asked")]
    area_code = request.get("areaCode")
    if not area_code:
        plan = [("local", None, "local number (no area code asked)")]
    else:
        plan = [("local", area_code, f"in the requested area code {area_code}")]
        state = state_for_area_code(area_code)
        plan += [
            ("local", nearby, f"area code {area_code} had none; {nearby} is nearby in {state}")
            for nearby in nearby_area_codes(area_code)
        ]
    if request.get("allowTollFreeFallback"):
        plan.append(("toll_free", None, "no local number was available; toll-free allowed"))
    return plan


def choose_candidate(job: ProvisioningJob) -> tuple[dict[str, Any], str]:
    """The next candidate to buy and why; JobFailed(21452) when nothing fits."""
    request = job.request
    if request.get("phoneNumber"):
        return exact_candidate(request["phoneNumber"], request.get("country") or "US"), \
            "the specific number asked for"
    country = request.get("country") or "US"
    plan = search_plan(request)
    for number_type, area_code, reason in plan:
        candidate = take_candidate(country, number_type, area_code)
        if candidate is not None:
            return candidate, reason
    if request.get("tollFree"):
        where = "toll-free"
    elif request.get("areaCode"):
        nearby = len(plan) - 1
        where = f"area code {request['areaCode']}" + (
            f" or {nearby} nearby area codes" if nearby > 0 else ""
        )
    else:
        where = f"country {country}"
    raise JobFailed(
        "no_numbers_available", f"no numbers available in {where}", twilio_code=NO_NUMBERS
    )


def exact_candidate(number: str, country: str) -> dict[str, Any]:
    """The number asked for, with what Twilio's search says of it (locality, region,
    capabilities): one search whose `Contains` is the whole number. A number the search does
    not show is still bought as asked (the purchase then says why it cannot be); a transient
    error retries the job, nothing being bought yet."""
    number_type = number_type_of(number)
    candidate: dict[str, Any] = {"phone_number": number, "number_type": number_type}
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return candidate  # not a number at all: the purchase refuses it with Twilio's 21421
    # "+" anchors at the number's start and "$" at its end (the latter only where it fits).
    contains = number + "$" if len(number) < MAX_CONTAINS else number[:MAX_CONTAINS]
    try:
        found = get_gateway().search_available(country=region or country,
                                               number_type=number_type, contains=contains,
                                               limit=5)
    except PermanentTelephonyError as error:
        log.info("no search details for %s (%s): buying it as asked", number, error)
        return candidate
    match = next((available for available in found if available.phone_number == number), None)
    return asdict(match) if match is not None else candidate
