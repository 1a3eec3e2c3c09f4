"""Every number of the account with its owner and what reconciliation finds about it (read-only):
the operator's console lists these."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from ringly.clients.models import Client
from ringly.db import db
from ringly.provisioning import reconcile
from ringly.provisioning.models import PhoneNumber

# What each planned action means to an operator looking at the number.
FLAGS = {
    reconcile.REPAIR_WEBHOOKS: "drift",
    reconcile.RELEASE_ORPHAN: "orphan",
    reconcile.REPORT_UNTRACKED: "untracked",
    reconcile.ADOPT: "being adopted",
    reconcile.FLAG_MISSING: "missing at Twilio",
    reconcile.JOIN_MESSAGING_SERVICE: "not in the Messaging Service",
}


@dataclass
class NumberRow:
    sid: str
    phone_number: str
    client_id: int | None = None
    business_name: str | None = None
    status: str | None = None  # as recorded by Ringly; None when Ringly has no row for it
    at_twilio: bool = True
    voice_url: str | None = None
    monthly_price: Decimal | None = None
    price_unit: str | None = None
    flags: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.flags


@dataclass
class NumberOverview:
    rows: list[NumberRow]
    webhook_base: str
    counts: dict[str, int]


def number_overview() -> NumberOverview:
    """The account's numbers as Twilio lists them (plus those Ringly holds that Twilio no longer
    has), each with its client and reconciliation's flags. Talks to Twilio; changes nothing."""
    plan = reconcile.plan_reconciliation()
    recorded = {number.sid: number for number in db.session.scalars(sa.select(PhoneNumber))}
    owners = dict(db.session.execute(
        sa.select(Client.twilio_number_sid, Client.id).where(
            Client.twilio_number_sid.is_not(None))).all())
    names = dict(db.session.execute(sa.select(Client.id, Client.business_name)).all())
    rows: dict[str, NumberRow] = {}
    for incoming in plan.seen:
        number = recorded.get(incoming.sid)
        client_id = owners.get(incoming.sid) or (number.client_id if number else None)
        rows[incoming.sid] = NumberRow(
            incoming.sid, incoming.phone_number, client_id, names.get(client_id),
            number.status if number else None, True, incoming.voice_url,
            number.monthly_price if number else None, number.price_unit if number else None)
    for action in plan.actions:
        row = rows.get(action.sid)
        if row is None:  # recorded, but Twilio did not list it
            number = recorded.get(action.sid)
            row = rows[action.sid] = NumberRow(
                action.sid, action.phone_number, action.client_id, names.get(action.client_id),
                number.status if number else None, False)
        flag = FLAGS.get(action.kind)
        if flag is not None:
            row.flags.append(flag)
            row.reasons.append(action.reason)
    db.session.rollback()
    ordered = sorted(rows.values(), key=lambda row: (row.healthy, row.phone_number))
    counts = {"numbers": len(ordered), "healthy": sum(row.healthy for row in ordered)}
    return NumberOverview(ordered, plan.webhook_base, counts)
