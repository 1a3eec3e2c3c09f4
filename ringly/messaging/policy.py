"""The messaging policy: every outbound text is checked here (destination, loops, daily limits)
before it is queued, and a refused one is kept with its reason and audited."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ringly import metrics
from ringly.admin.services import record_event
from ringly.clients.models import Client
from ringly.db import db, utcnow
from ringly.destinations import Refusal, check_client_destination
from ringly.messaging.models import Message
from ringly.provisioning.models import PhoneNumber

DAY, HOUR = timedelta(days=1), timedelta(hours=1)


def masked(number: str | None) -> str:
    """A number as audit messages show it: its last four digits."""
    return f"…{number[-4:]}" if number and len(number) > 4 else (number or "nobody")


def is_ringly_number(number: str) -> bool:
    """A number Ringly holds or held (any client's, any number it bought): texting it could
    start two auto-responders answering each other."""
    client = sa.select(Client.id).where(Client.ringlypro_number == number)
    bought = sa.select(PhoneNumber.id).where(PhoneNumber.phone_number == number)
    return db.session.scalar(sa.select(sa.or_(sa.exists(client), sa.exists(bought)))) is True


def _texts_since(since: datetime, *conditions: sa.ColumnElement[bool]) -> int:
    """Outbound texts not refused, created since `since`, matching `conditions`."""
    query = sa.select(sa.func.count()).select_from(Message).where(
        Message.channel == "sms", Message.direction == "outbound",
        sa.or_(Message.status.is_(None), Message.status != "refused"),
        Message.created_at >= since, *conditions)
    return db.session.scalar(query) or 0


def check_text(client: Client | None, to_number: str | None, caller: str | None, *,
               auto_reply: bool = False, now: datetime | None = None) -> Refusal | None:
    """None when Ringly may text `to_number` for `client` on behalf of `caller`, else why not.

    Daily limits are rolling 24 hours, the auto-reply limit a rolling hour; texts already
    refused do not count.
    """
    if client is None:
        return Refusal("no_client", "no client answers on this number")
    refusal = check_client_destination(to_number, client.country)
    if refusal is not None or to_number is None:
        return refusal
    if is_ringly_number(to_number):
        return Refusal("ringly_number", "a Ringly number (two auto-responders would text each "
                                        "other forever)")
    config = current_app.config
    now = now or utcnow()
    if auto_reply:
        limit = config["AUTO_REPLIES_PER_SENDER_PER_HOUR"]
        if _texts_since(now - HOUR, Message.to_number == to_number,
                        Message.purpose == "reply") >= limit:
            return Refusal("auto_reply_limit",
                           f"this sender already got {limit} automatic replies in the last hour")
    limits = [
        ("destination_daily_limit", config["TEXTS_PER_DESTINATION_PER_DAY"],
         Message.to_number == to_number, "this number was already texted {n} times today"),
        ("client_daily_limit", config["TEXTS_PER_CLIENT_PER_DAY"],
         Message.client_id == client.id, "this client already sent {n} texts today"),
    ]
    if caller:
        limits.insert(0, ("caller_daily_limit", config["TEXTS_PER_CALLER_PER_DAY"],
                          Message.caller_number == caller,
                          "this caller already had {n} texts sent today"))
    for code, limit, condition, sentence in limits:
        if _texts_since(now - DAY, condition) >= limit:
            return Refusal(code, sentence.format(n=limit) + " (a rolling 24 hours)")
    return None


def refuse(message: Message, refusal: Refusal) -> None:
    """Keep the text as refused, with its reason, and put it in the audit log (the caller
    commits)."""
    message.status = "refused"
    message.refused_reason = refusal.detail[:255]
    db.session.flush()
    metrics.count_text("refused", refusal.code)
    record_event(
        "message.refused",
        f"{message.purpose or 'text'} to {masked(message.to_number)} refused: {refusal.detail}",
        subject=message,
        data={"reason": refusal.code, "client_id": message.client_id,
              "purpose": message.purpose, "to": masked(message.to_number),
              "caller": masked(message.caller_number) if message.caller_number
              else None},
    )
