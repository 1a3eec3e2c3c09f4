"""Each client's number as Twilio has it, against what Ringly would set (read-only)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ringly.clients.models import Client
from ringly.clients.services import get_client
from ringly.db import db
from ringly.provisioning.lifecycle import number_by_sid
from ringly.provisioning.numbers import desired_webhooks
from ringly.telephony import IncomingNumber, NumberNotFound, WebhookConfig, get_gateway
from ringly.telephony.types import WEBHOOK_METHOD

OK, DRIFT, MISSING = "OK", "DRIFT", "MISSING"
# (what the operator reads, the URL's attribute, its method's attribute)
WEBHOOKS = (
    ("voice URL", "voice_url", "voice_method"),
    ("voice fallback URL", "voice_fallback_url", "voice_fallback_method"),
    ("SMS URL", "sms_url", "sms_method"),
    ("status callback", "status_callback", "status_callback_method"),
)


@dataclass
class NumberCheck:
    """One client's number: OK, DRIFT (Twilio has it, configured otherwise) or MISSING (no
    number, or Twilio does not have it in this account), with each difference in words."""

    client_id: int
    business_name: str
    phone_number: str | None
    sid: str | None
    status: str = OK
    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_client_numbers(client_id: int | None = None) -> list[NumberCheck]:
    """Check one client's number, or every client that has one (the account's numbers are read
    page by page, not one request per client). Nothing is changed."""
    desired = desired_webhooks()
    service = current_app.config.get("TWILIO_MESSAGING_SERVICE_SID") or None
    gateway = get_gateway()
    if client_id is not None:
        clients = [get_client(client_id)]
        live = {}
        sid = clients[0].twilio_number_sid
        if sid:
            try:
                live[sid] = gateway.fetch_number(sid)
            except NumberNotFound:
                pass
    else:
        clients = list(db.session.scalars(sa.select(Client).where(
            Client.twilio_number_sid.is_not(None)).order_by(Client.id)))
        live = {number.sid: number for number in gateway.iter_numbers(page_size=1000)} \
            if clients else {}
    in_service = ({number.sid for number in gateway.list_messaging_service_numbers(service)}
                  if service and clients else set())
    checks = [_check(client, live, desired, service, in_service) for client in clients]
    db.session.rollback()
    return checks


def _check(client: Client, live: dict[str, IncomingNumber], desired: WebhookConfig,
           service: str | None, in_service: set[str]) -> NumberCheck:
    check = NumberCheck(client.id, client.business_name, client.ringlypro_number,
                        client.twilio_number_sid)
    if not client.twilio_number_sid:
        check.status = MISSING
        check.differences.append("the client has no number")
        return check
    recorded = number_by_sid(client.twilio_number_sid)
    if recorded is None:
        check.differences.append("the number is not recorded in phone_numbers")
    elif recorded.status != "active":
        check.differences.append(f"the number is recorded as {recorded.status}, not active")
    incoming = live.get(client.twilio_number_sid)
    if incoming is None:
        check.status = MISSING
        check.differences.insert(0, f"Twilio has no number {client.twilio_number_sid} in this "
                                    "account")
        return check
    if incoming.phone_number != client.ringlypro_number:
        check.differences.append(f"Twilio's number is {incoming.phone_number}, the client's "
                                 f"is {client.ringlypro_number}")
    check.differences.extend(webhook_differences(incoming, desired))
    capabilities = incoming.capabilities or {}
    if not capabilities.get("voice"):
        check.differences.append("the number cannot take calls (no voice capability)")
    can_text = bool(capabilities.get("sms") or capabilities.get("mms"))
    if not can_text:
        check.notes.append("the number cannot text (no SMS or MMS capability)")
    elif service and incoming.sid not in in_service:
        check.differences.append(f"not in the Messaging Service {service}")
    if check.differences:
        check.status = DRIFT
    return check


def webhook_differences(incoming: IncomingNumber, desired: WebhookConfig) -> list[str]:
    """Each webhook Twilio has otherwise than `desired` (URL, or a method other than POST)."""
    differences = []
    for label, url_name, method_name in WEBHOOKS:
        current, wanted = getattr(incoming, url_name), getattr(desired, url_name)
        if (current or None) != (wanted or None):
            differences.append(f"{label} is {current or 'unset'}, should be {wanted or 'unset'}")
        elif wanted and (getattr(incoming, method_name) or "").upper() != WEBHOOK_METHOD:
            differences.append(f"{label} is requested with {getattr(incoming, method_name)}, "
                               f"should be {WEBHOOK_METHOD}")
    return differences
