"""Messaging API v1 routes: the numbers in a Messaging Service (add, list, fetch, remove)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, request

from ringly.sandbox.context import sandbox_context
from ringly.sandbox.errors import TwilioApiError
from ringly.sandbox.resources import service_number_resource
from ringly.sandbox.rest import (
    authenticate_and_inject_faults,
    operation,
    page_slice,
    release_fault_slot,
    render_twilio_error,
)

BLUEPRINT = "messaging_api"
OPERATION = "messaging_service"
NUMBER_SID = re.compile(r"^PN[0-9a-fA-F]{32}$")

# Real Twilio serves these at https://messaging.twilio.com/v1/…; the gateway's HTTP client
# sends that host here, as it does api.twilio.com.
messaging_api = Blueprint(BLUEPRINT, __name__, url_prefix="/v1/Services")
messaging_api.before_request(authenticate_and_inject_faults)
messaging_api.teardown_request(release_fault_slot)
messaging_api.register_error_handler(TwilioApiError, render_twilio_error)


def _resource(member: dict) -> dict:
    return service_number_resource(
        account_sid=sandbox_context().account_sid, member=member, base_url=request.host_url
    )


@messaging_api.post("/<service_sid>/PhoneNumbers")
@operation(OPERATION, BLUEPRINT)
def add_service_number(service_sid: str) -> Response:
    number_sid = request.form.get("PhoneNumberSid", "").strip()
    if not number_sid:
        raise TwilioApiError(
            400, 20001, "Missing required parameter PhoneNumberSid in the post body"
        )
    if not NUMBER_SID.match(number_sid):
        raise TwilioApiError(400, 21421, f"Phone Number Sid {number_sid} is invalid.")
    member = sandbox_context().state.add_to_service(service_sid, number_sid)
    response = jsonify(_resource(member))
    response.status_code = 201
    return response


@messaging_api.get("/<service_sid>/PhoneNumbers")
@operation(OPERATION, BLUEPRINT)
def list_service_numbers(service_sid: str) -> Response:
    sliced = page_slice(sandbox_context().state.service_numbers(service_sid))
    base = request.base_url

    def page_url(number: int, token: str | None = None) -> str:
        query = {"PageSize": str(sliced.size), "Page": str(number)}
        if token:
            query["PageToken"] = token
        return f"{base}?{urlencode(query)}"

    meta = {
        "page": sliced.page,
        "page_size": sliced.size,
        "first_page_url": page_url(0),
        "previous_page_url": page_url(sliced.page - 1) if sliced.page > 0 else None,
        "url": request.url,
        "next_page_url": (
            page_url(sliced.page + 1, sliced.next_token) if sliced.next_token else None
        ),
        "key": "phone_numbers",
    }
    # Messaging v1 pages with a "meta" object (the library reads meta.key and
    # meta.next_page_url), not the 2010 API's top-level envelope.
    return jsonify({"phone_numbers": [_resource(m) for m in sliced.chunk], "meta": meta})


@messaging_api.get("/<service_sid>/PhoneNumbers/<sid>")
@operation(OPERATION, BLUEPRINT)
def fetch_service_number(service_sid: str, sid: str) -> Response:
    return jsonify(_resource(sandbox_context().state.service_number(service_sid, sid)))


@messaging_api.delete("/<service_sid>/PhoneNumbers/<sid>")
@operation(OPERATION, BLUEPRINT)
def remove_service_number(service_sid: str, sid: str) -> Response:
    sandbox_context().state.remove_from_service(service_sid, sid)
    return Response(status=204)
