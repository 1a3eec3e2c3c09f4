"""A client's number at Twilio: search, live details, webhooks, the account's list, release."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from ringly import events
from ringly.admin.services import record_event
from ringly.clients.models import Client
from ringly.clients.services import get_client
from ringly.db import db
from ringly.errors import InvalidInput, NotFound, UpstreamUnavailable
from ringly.paging import Page, decode_cursor, encode_cursor
from ringly.provisioning.lifecycle import (
    number_by_sid,
    quarantine,
    record_configuration,
    release_now,
)
from ringly.provisioning.models import PhoneNumber
from ringly.provisioning.numbers import desired_webhooks
from ringly.provisioning.presenters import client_shape
from ringly.telephony import (
    InvalidPageToken,
    NumberNotFound,
    TelephonyError,
    TransientTelephonyError,
    get_gateway,
)

# Cursors of the account's number list are signed for this list alone.
ACCOUNT_NUMBER_PAGES = "account-numbers"


def twilio_failure(error: TelephonyError) -> Exception:
    """A Twilio error as a domain error that carries Twilio's code."""
    if isinstance(error, TransientTelephonyError):
        return UpstreamUnavailable(f"Twilio is unavailable: {error.message}",
                                   twilio_code=error.twilio_code,
                                   retry_after=error.retry_after or 5)
    if isinstance(error, InvalidPageToken):
        return InvalidInput("the page token is not valid", errors={"page_token": ["invalid"]})
    if isinstance(error, NumberNotFound):
        return NotFound(f"Twilio does not know this number: {error.message}",
                        twilio_code=error.twilio_code)
    if error.twilio_code == 20003:
        return UpstreamUnavailable("Twilio rejected Ringly's credentials (20003)",
                                   twilio_code=20003)
    return InvalidInput(f"Twilio refused the request: {error.message}",
                        twilio_code=error.twilio_code)


def search_numbers(params: dict[str, Any]) -> dict[str, Any]:
    """The original's search answer: {success, count, numbers[...]}, one Twilio request."""
    try:
        found = get_gateway().search_available(
            country=params.get("country", "US"),
            number_type="toll_free" if params.get("tollFree") else "local",
            area_code=params.get("areaCode"), contains=params.get("contains"),
            region=params.get("region"), voice=params.get("voiceEnabled"),
            sms=params.get("smsEnabled"), mms=params.get("mmsEnabled"),
            limit=params.get("limit", 10),
        )
    except TelephonyError as error:
        raise twilio_failure(error) from None
    numbers = [
        {"phoneNumber": n.phone_number, "friendlyName": n.friendly_name,
         "locality": n.locality, "region": n.region, "postalCode": n.postal_code,
         "capabilities": dict(n.capabilities)}
        for n in found
    ]
    return {"success": True, "count": len(numbers), "numbers": numbers}


def _client_number(client: Client) -> PhoneNumber:
    if not client.twilio_number_sid:
        raise NotFound(f"client {client.id} has no number")
    number = number_by_sid(client.twilio_number_sid)
    if number is None:
        raise NotFound(f"client {client.id}'s number is not recorded")
    return number


def client_number(client_id: int) -> dict[str, Any]:
    """The client and the number's live details as Twilio reports them."""
    client = get_client(client_id)
    number = _client_number(client)
    try:
        live = get_gateway().fetch_number(number.sid)
    except TelephonyError as error:
        raise twilio_failure(error) from None
    return {"success": True, "client": client_shape(client), "number": {
        "sid": live.sid, "phoneNumber": live.phone_number, "friendlyName": live.friendly_name,
        "voiceUrl": live.voice_url, "voiceFallbackUrl": live.voice_fallback_url,
        "smsUrl": live.sms_url, "statusCallback": live.status_callback,
        "capabilities": dict(live.capabilities), "status": live.status,
    }}


def update_client_webhooks(client_id: int) -> dict[str, Any]:
    """Re-apply the whole desired configuration (idempotent): the original's answer shape."""
    client = get_client(client_id)
    number = _client_number(client)
    desired = desired_webhooks()
    try:
        live = get_gateway().update_webhooks(number.sid, desired)
    except TelephonyError as error:
        raise twilio_failure(error) from None
    record_configuration(number, live)
    record_event("number.webhooks_applied", f"webhooks re-applied to {number.phone_number}",
                 subject=number, data=asdict(desired))
    events.emit("number.webhooks_repaired",
                {"sid": number.sid, "phone_number": number.phone_number, "client_id": client.id,
                 "source": "api", "voice_url": live.voice_url}, client_id=client.id)
    db.session.commit()
    return {"success": True, "message": "Webhooks updated", "webhooks": {
        "voiceUrl": live.voice_url, "voiceFallbackUrl": live.voice_fallback_url,
        "smsUrl": live.sms_url, "statusCallback": live.status_callback, "method": "POST",
    }}


@dataclass
class AccountNumberPage(Page):
    """A page of the account's numbers in the original's shape; `next_page_token` is Twilio's
    page token (as the gateway wraps it), which the page's `cursor` carries signed."""

    next_page_token: str | None = None
    success: bool = True


def _page_token(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not a page token")
    return value


def list_account_numbers(args: dict[str, Any]) -> AccountNumberPage:
    """One page of the account's numbers in Twilio's order, each marked with its client or as
    unassigned; the next page from `cursor` or the original's `page_token`."""
    token = args.get("page_token")
    if args.get("cursor"):
        (token,) = decode_cursor(ACCOUNT_NUMBER_PAGES, args["cursor"], _page_token)
    try:
        page = get_gateway().list_numbers_page(page_size=args["limit"], page_token=token)
    except TelephonyError as error:
        raise twilio_failure(error) from None
    sids = [n.sid for n in page.numbers]
    owners = dict(db.session.execute(
        sa.select(Client.twilio_number_sid, Client.id).where(Client.twilio_number_sid.in_(sids))
    ).all()) if sids else {}
    numbers = [
        {"sid": n.sid, "phoneNumber": n.phone_number, "friendlyName": n.friendly_name,
         "voiceUrl": n.voice_url, "smsUrl": n.sms_url, "client_id": owners.get(n.sid),
         "assigned": n.sid in owners}
        for n in page.numbers
    ]
    cursor = encode_cursor(ACCOUNT_NUMBER_PAGES, page.next_page) if page.next_page else None
    return AccountNumberPage(numbers, cursor, page.next_page)


def release_client_number(client_id: int, quarantine_days: int | None = None) -> dict[str, Any]:
    """Release the client's number now, or quarantine it for N days (released by a task)."""
    client = get_client(client_id)
    number = _client_number(client)
    phone = number.phone_number
    if quarantine_days:
        quarantine(number, quarantine_days, f"asked for client {client.id}")
    else:
        release_now(number, f"asked for client {client.id}")
        if number.status == "quarantined":
            db.session.commit()
            raise UpstreamUnavailable(
                f"Twilio could not release {phone} now; it is quarantined and will be "
                "released by a task", retry_after=60)
    db.session.commit()
    return {"success": True, "message": f"{phone} {number.status}", "phoneNumber": phone,
            "status": number.status, "quarantined_until": number.quarantined_until,
            "client": client_shape(client)}
