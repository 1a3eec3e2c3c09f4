"""Twilio routes for phone numbers: search what is for sale, buy, list, configure, release."""

from __future__ import annotations

import re
import time

from flask import Response, jsonify, request

from ringly.sandbox import inventory
from ringly.sandbox.context import sandbox_context
from ringly.sandbox.errors import TwilioApiError, not_found
from ringly.sandbox.inventory import CatalogNumber
from ringly.sandbox.resources import available_resource
from ringly.sandbox.rest import (
    bool_param,
    drop_connection,
    operation,
    page_size_param,
    paged_envelope,
    twilio_api,
)
from ringly.sandbox.state import area_code_candidates

SEARCH_KINDS = {"Local": "local", "TollFree": "toll-free", "Mobile": "mobile"}
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
# Twilio's magic purchase numbers (test credentials): unavailable and invalid.
MAGIC_UNAVAILABLE = "+15005550000"
MAGIC_INVALID = "+15005550001"


def _search_pool(number_type: str, area_code: str | None) -> list[CatalogNumber]:
    if area_code is None:
        return inventory.catalog(number_type)
    if number_type == "toll-free":
        return [n for n in inventory.toll_free_numbers() if n.area_code == area_code]
    if number_type == "local" and area_code == "500":
        return [inventory.magic_number()]
    return list(inventory.numbers_for_area_code(area_code, number_type))


def _matches_search(number: CatalogNumber, contains: re.Pattern[str] | None) -> bool:
    args = request.args
    if contains is not None and not contains.search(number.phone_number):
        return False
    if args.get("InRegion") and (number.region or "").upper() != args["InRegion"].strip().upper():
        return False
    if args.get("InPostalCode") and number.postal_code != args["InPostalCode"].strip():
        return False
    locality = args.get("InLocality")
    if locality and (number.locality or "").casefold() != locality.strip().casefold():
        return False
    # Twilio treats "false" as "no constraint", not as "must lack the capability".
    for param, capable in (
        ("VoiceEnabled", number.voice),
        ("SmsEnabled", number.sms),
        ("MmsEnabled", number.mms),
    ):
        if bool_param(param) and not capable:
            return False
    return True


@twilio_api.get("/Accounts/<account_sid>/AvailablePhoneNumbers/<country>/<kind>.json")
@operation("search")
def search_available_numbers(account_sid: str, country: str, kind: str) -> Response:
    if kind not in SEARCH_KINDS:
        raise not_found()
    number_type = SEARCH_KINDS[kind]
    area_code = request.args.get("AreaCode")
    if area_code is not None and not re.fullmatch(r"\d{3}", area_code.strip()):
        raise TwilioApiError(400, 21451, f"Invalid area code: {area_code}")
    contains = None
    if request.args.get("Contains"):
        contains = inventory.contains_pattern(request.args["Contains"])
        if contains is None:
            raise TwilioApiError(400, 21401, "Invalid Contains pattern")
    size = page_size_param()
    pool = (
        []
        if country.upper() != "US"
        else _search_pool(number_type, area_code and area_code.strip())
    )
    owned = sandbox_context().state.owned_phone_numbers()
    found = [
        available_resource(n)
        for n in pool
        if n.phone_number not in owned and _matches_search(n, contains)
    ][:size]
    uri = request.full_path.rstrip("?")
    return jsonify(
        {
            "available_phone_numbers": found,
            "end": max(len(found) - 1, 0),
            "first_page_uri": uri,
            "next_page_uri": None,
            "page": 0,
            "page_size": size,
            "previous_page_uri": None,
            "start": 0,
            "uri": uri,
        }
    )


def _buy(params: dict[str, str]) -> dict:
    state = sandbox_context().state
    phone_number = params.get("PhoneNumber", "").strip()
    area_code = params.get("AreaCode", "").strip()
    if phone_number:
        if phone_number == MAGIC_UNAVAILABLE:
            raise TwilioApiError(400, 21422, f"PhoneNumber {phone_number} is not available.")
        if phone_number == MAGIC_INVALID or not E164.match(phone_number):
            raise TwilioApiError(400, 21421, f"PhoneNumber {phone_number} is invalid.")
        number = inventory.find_in_catalog(phone_number)
        if number is None:
            raise TwilioApiError(400, 21422, f"PhoneNumber {phone_number} is not available.")
        return state.purchase(number, params)
    if area_code:
        if not re.fullmatch(r"\d{3}", area_code):
            raise TwilioApiError(400, 21451, f"Invalid area code: {area_code}")
        return state.purchase_in_area_code(area_code_candidates(area_code), area_code, params)
    # Twilio only says "you must provide an AreaCode or a PhoneNumber"; we answer it as an
    # invalid phone number so callers never mistake it for "area code sold out" (21452).
    raise TwilioApiError(400, 21421, "A 'PhoneNumber' or an 'AreaCode' is required.")


@twilio_api.post("/Accounts/<account_sid>/IncomingPhoneNumbers.json")
@operation("purchase")
def purchase_number(account_sid: str) -> Response:
    resource = _buy(request.form.to_dict())
    lost, delay_s = sandbox_context().faults.purchase_response_lost()
    if lost:
        # The purchase is committed and in the ledger; only the answer goes missing.
        if delay_s:
            time.sleep(delay_s)
        return drop_connection()
    response = jsonify(resource)
    response.status_code = 201
    return response


def _phone_number_filter(partial: str) -> re.Pattern[str]:
    return re.compile("".join(r"\d" if ch == "*" else re.escape(ch) for ch in partial.strip()))


@twilio_api.get("/Accounts/<account_sid>/IncomingPhoneNumbers.json")
@operation("list")
def list_numbers(account_sid: str) -> Response:
    numbers = sandbox_context().state.owned_numbers()
    filters: dict[str, str] = {}
    friendly_name = request.args.get("FriendlyName")
    if friendly_name is not None:
        filters["FriendlyName"] = friendly_name
        numbers = [n for n in numbers if n["friendly_name"] == friendly_name]
    phone_number = request.args.get("PhoneNumber")
    if phone_number:
        filters["PhoneNumber"] = phone_number
        pattern = _phone_number_filter(phone_number)
        numbers = [n for n in numbers if pattern.search(n["phone_number"])]
    return jsonify(paged_envelope(numbers, "incoming_phone_numbers", filters))


@twilio_api.get("/Accounts/<account_sid>/IncomingPhoneNumbers/<sid>.json")
@operation("fetch")
def fetch_number(account_sid: str, sid: str) -> Response:
    return jsonify(sandbox_context().state.get_number(sid))


@twilio_api.post("/Accounts/<account_sid>/IncomingPhoneNumbers/<sid>.json")
@operation("update")
def update_number(account_sid: str, sid: str) -> Response:
    params = request.form.to_dict()
    # PhoneNumber/AreaCode are create-only; silently ignoring them matches Twilio.
    params.pop("PhoneNumber", None)
    params.pop("AreaCode", None)
    return jsonify(sandbox_context().state.update_number(sid, params))


@twilio_api.delete("/Accounts/<account_sid>/IncomingPhoneNumbers/<sid>.json")
@operation("release")
def release_number(account_sid: str, sid: str) -> Response:
    sandbox_context().state.release_number(sid)
    return Response(status=204)
