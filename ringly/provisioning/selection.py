"""Choosing a number: the one asked for, else the area code, nearby codes, then toll-free."""
from __future__ import annotations

from typing import Any

from ringly.provisioning.candidates import take_candidate
from ringly.provisioning.exceptions import JobFailed
from ringly.provisioning.models import ProvisioningJob
from ringly.provisioning.numbers import number_type_of
from ringly.telephony.area_codes import nearby_area_codes, state_for_area_code

NO_NUMBERS = 21452


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
        number = request["phoneNumber"]
        return (
            {"phone_number": number, "number_type": number_type_of(number)},
            "the specific number asked for",
        )
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
