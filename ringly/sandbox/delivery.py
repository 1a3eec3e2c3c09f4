"""Deliver texts as the carriers would: a final status, carrier filtering, signed callbacks."""

from __future__ import annotations

from typing import Any

import requests

from ringly.sandbox.context import SandboxContext
from ringly.sandbox.resources import API_VERSION
from ringly.sandbox.state import SandboxState
from ringly.telephony.signatures import sign_request

CALLBACK_TIMEOUT_S = 15.0  # what Twilio gives any webhook
UNREGISTERED = (30034, "Message from an Unregistered Number")


def _unregistered_local_sender(state: SandboxState, phone_number: str) -> bool:
    """A local (10DLC) number of the account that no Messaging Service holds."""
    owned = state.number_by_phone(phone_number)
    return owned is not None and owned.get("type") == "local" and state.service_of(
        phone_number
    ) is None


def outcome(
    state: SandboxState, resource: dict, *, carrier_filtering: bool
) -> tuple[str, int | None, str | None]:
    """(status, error code, error message) a text ends with."""
    if carrier_filtering and _unregistered_local_sender(state, resource["from"]):
        code, message = UNREGISTERED
        return "undelivered", code, message
    return "delivered", None, None


def _callback_params(account_sid: str, resource: dict, status: str) -> dict[str, str]:
    params = {
        "MessageSid": resource["sid"],
        "SmsSid": resource["sid"],
        "AccountSid": account_sid,
        "From": resource["from"],
        "To": resource["to"],
        "MessageStatus": status,
        "SmsStatus": status,
        "ApiVersion": API_VERSION,
    }
    if resource.get("messaging_service_sid"):
        params["MessagingServiceSid"] = resource["messaging_service_sid"]
    if status == resource["status"] and resource.get("error_code"):
        params["ErrorCode"] = str(resource["error_code"])
    return params


def _post_callback(
    http: requests.Session, ctx: SandboxContext, url: str, params: dict[str, str]
) -> dict[str, Any]:
    signature = sign_request(ctx.auth_token, url, params)
    try:
        answer = http.post(
            url, data=params, headers={"X-Twilio-Signature": signature}, timeout=CALLBACK_TIMEOUT_S
        )
    except requests.RequestException as error:
        # Twilio logs a failed status callback (11200) and moves on; so does the sandbox.
        return {"status": params["MessageStatus"], "error": type(error).__name__}
    return {"status": params["MessageStatus"], "http_status": answer.status_code}


def deliver_messages(ctx: SandboxContext) -> list[dict[str, Any]]:
    """Settle every text still waiting and post its status callbacks (`sent`, then the end).

    Returns one report per text: sid, status, error_code and the callbacks made.
    """
    filtering = ctx.controls.current().carrier_filtering
    settled = ctx.state.settle_messages(
        lambda resource: outcome(ctx.state, resource, carrier_filtering=filtering)
    )
    reports = []
    with requests.Session() as http:
        for item in settled:
            resource, url = item["resource"], item["status_callback"]
            callbacks = []
            if url:
                for status in ("sent", resource["status"]):
                    params = _callback_params(ctx.account_sid, resource, status)
                    callbacks.append(_post_callback(http, ctx, url, params))
            reports.append(
                {
                    "sid": resource["sid"],
                    "from": resource["from"],
                    "to": resource["to"],
                    "status": resource["status"],
                    "error_code": resource["error_code"],
                    "callbacks": callbacks,
                }
            )
    return reports
