"""A client's time zone from its number: set when the number is bought, fixed later on demand."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ringly.admin.services import record_event
from ringly.clients.models import Client, default_timezone
from ringly.db import db
from ringly.provisioning.models import PhoneNumber
from ringly.telephony.time_zones import zone_for_number


@dataclass(frozen=True)
class DerivedZone:
    """The zone a number gives a client, `number` or `default` as its source, and why."""

    zone: str
    source: str
    basis: str


def derived_zone(phone_number: str | None, *, locality: str | None = None,
                 region: str | None = None) -> DerivedZone:
    """The zone of the number (its area code, or its rate center where the code spans zones),
    else DEFAULT_TIMEZONE (no number, toll-free, a number that says nothing of where it is)."""
    found = zone_for_number(phone_number, locality=locality, region=region) \
        if phone_number else None
    if found is not None:
        return DerivedZone(found.zone, "number", found.basis)
    why = "no number" if not phone_number else "the number gives no zone"
    return DerivedZone(default_timezone(), "default", f"{why}: DEFAULT_TIMEZONE")


def assign_number_zone(client: Client, number: PhoneNumber) -> None:
    """The client just got `number`: take its zone, unless the client's zone was asked for
    (provision request or PATCH), which always wins. The caller commits."""
    if client.timezone_source == "explicit":
        return
    derived = derived_zone(number.phone_number, locality=number.locality, region=number.region)
    client.timezone, client.timezone_source = derived.zone, derived.source


@dataclass(frozen=True)
class ZoneFix:
    """One client whose zone differs from what its number gives (kept when it was explicit)."""

    client_id: int
    business_name: str
    phone_number: str | None
    current: str
    derived: DerivedZone
    explicit: bool

    @property
    def changes_zone(self) -> bool:
        """False when only the recorded source changes (the number gives the zone it has)."""
        return not self.explicit and self.current != self.derived.zone

    def line(self, applied: bool) -> str:
        number = self.phone_number or "no number"
        head = f"client {self.client_id} ({self.business_name}, {number}): {self.current}"
        if self.explicit:
            return f"{head}, kept (explicit); its number gives {self.derived.zone}"
        verb = "changed to" if applied else "would change to"
        return f"{head} {verb} {self.derived.zone} ({self.derived.basis})"


def timezone_fixes() -> list[ZoneFix]:
    """Every client whose zone (or its source) is not what its number gives, by id; explicit
    zones are listed when they differ, to be kept. Nothing is changed."""
    rows = db.session.execute(
        sa.select(Client, PhoneNumber.locality, PhoneNumber.region)
        .outerjoin(PhoneNumber, PhoneNumber.sid == Client.twilio_number_sid)
        .order_by(Client.id)).all()
    fixes = []
    for client, locality, region in rows:
        derived = derived_zone(client.ringlypro_number, locality=locality, region=region)
        if (client.timezone, client.timezone_source) == (derived.zone, derived.source):
            continue
        explicit = client.timezone_source == "explicit"
        if explicit and client.timezone == derived.zone:
            continue
        fixes.append(ZoneFix(client.id, client.business_name, client.ringlypro_number,
                             client.timezone, derived, explicit))
    return fixes


def apply_timezone_fixes(fixes: list[ZoneFix]) -> list[ZoneFix]:
    """Give each client that did not choose its zone the one its number gives, with an audit
    event per zone changed; one commit. Returns the fixes applied (explicit zones are kept)."""
    applied = []
    for fix in fixes:
        if fix.explicit:
            continue
        client = db.session.get(Client, fix.client_id, with_for_update=True)
        if client is None or client.timezone_source == "explicit":
            continue  # deleted, or a PATCH chose a zone since the list was made
        before = client.timezone
        client.timezone, client.timezone_source = fix.derived.zone, fix.derived.source
        if before != fix.derived.zone:
            record_event("client.timezone_changed",
                         f"client {client.id} time zone {before} -> {fix.derived.zone} "
                         f"({fix.derived.basis})", subject=client,
                         data={"before": before, "after": fix.derived.zone,
                               "source": fix.derived.source, "basis": fix.derived.basis,
                               "phone_number": client.ringlypro_number})
        applied.append(fix)
    db.session.commit()
    return applied
