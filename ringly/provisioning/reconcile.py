"""Reconciliation: every number at Twilio against the database, planned without side effects,
then applied; findings in audit_events."""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from ringly import events, tasks
from ringly.admin.services import record_event
from ringly.db import db, utcnow
from ringly.provisioning.checks import webhook_differences
from ringly.provisioning.lifecycle import (
    number_by_sid,
    phone_number_row,
    record_configuration,
    release_now,
)
from ringly.provisioning.messaging_service import configured_service, repair_messaging_service
from ringly.provisioning.models import PhoneNumber, ProvisioningJob
from ringly.provisioning.numbers import desired_webhooks, tag_from_friendly_name
from ringly.provisioning.saga import job_lock
from ringly.queue import send_now
from ringly.telephony import IncomingNumber, PermanentTelephonyError, WebhookConfig, get_gateway

log = logging.getLogger(__name__)

# What a plan may do to a number, and the finding each counts as once applied.
REPAIR_WEBHOOKS = "repair_webhooks"
ADOPT = "adopt"
RELEASE_ORPHAN = "release_orphan"
REPORT_UNTRACKED = "report_untracked"
FLAG_MISSING = "flag_missing"
CLEAR_MISSING = "clear_missing"
JOIN_MESSAGING_SERVICE = "join_messaging_service"
FINDINGS = {REPAIR_WEBHOOKS: "drift_repaired", ADOPT: "adopted_by_job",
            RELEASE_ORPHAN: "orphan_released", REPORT_UNTRACKED: "untracked",
            FLAG_MISSING: "missing_at_twilio"}
# Only recorded in the audit log: nothing changes at Twilio or in a number's row.
REPORTS = (REPORT_UNTRACKED,)


@dataclass(frozen=True)
class PlannedAction:
    """One thing reconciliation would do to one number, and why."""

    kind: str
    sid: str
    phone_number: str
    reason: str
    client_id: int | None = None
    job_id: str | None = None
    # As Twilio listed it when planned (an orphan is recorded from it before its release).
    incoming: IncomingNumber | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.kind, "sid": self.sid, "phone_number": self.phone_number,
                "reason": self.reason, "client_id": self.client_id, "job_id": self.job_id}


@dataclass
class ReconciliationPlan:
    """What reconciliation found and would do; nothing has been changed to make it."""

    webhooks: WebhookConfig
    numbers_at_twilio: int = 0
    ok: int = 0
    actions: list[PlannedAction] = field(default_factory=list)
    messaging_service: str | None = None
    notes: list[str] = field(default_factory=list)
    # Every number Twilio listed, as listed (the console shows each with its flags).
    seen: list[IncomingNumber] = field(default_factory=list, repr=False)

    @property
    def webhook_base(self) -> str:
        return current_app.config["WEBHOOK_BASE_URL"].rstrip("/")

    @property
    def changes(self) -> list[PlannedAction]:
        """The actions that change something (at Twilio or in the database), not only report."""
        return [action for action in self.actions if action.kind not in REPORTS]

    def counts(self) -> dict[str, int]:
        return dict(Counter(action.kind for action in self.actions))

    def current_hosts(self) -> dict[str, int]:
        """Where the voice URLs of the numbers to repair point now, by host: a plan that moves
        every number off a host that is not this one is worth a second look."""
        hosts: Counter[str] = Counter()
        for action in self.actions:
            if action.kind == REPAIR_WEBHOOKS and action.incoming is not None:
                url = action.incoming.voice_url
                hosts[f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" if url else "unset"] += 1
        return dict(hosts)

    def as_dict(self) -> dict[str, Any]:
        return {"webhook_base": self.webhook_base, "webhooks": asdict(self.webhooks),
                "messaging_service": self.messaging_service,
                "numbers_at_twilio": self.numbers_at_twilio, "ok": self.ok,
                "counts": self.counts(), "current_hosts": self.current_hosts(),
                "actions": [action.as_dict() for action in self.actions],
                "notes": list(self.notes)}


def plan_reconciliation() -> ReconciliationPlan:
    """Every number at Twilio against the database, and what reconciliation would do about each:
    repair drifted webhooks, wake the job that will adopt a tagged number, release a tagged
    orphan, report an untracked number, flag (or clear the flag of) a number missing at Twilio,
    put a number back in the Messaging Service. Reads only; changes nothing."""
    plan = ReconciliationPlan(webhooks=desired_webhooks(), messaging_service=configured_service())
    expected = set(db.session.scalars(
        sa.select(PhoneNumber.sid).where(PhoneNumber.status != "released")))
    seen: set[str] = set()
    for incoming in get_gateway().iter_numbers(page_size=100):
        seen.add(incoming.sid)
        plan.seen.append(incoming)
        plan.numbers_at_twilio += 1
        planned = _plan_number(incoming, plan.webhooks)
        if not any(action.kind != CLEAR_MISSING for action in planned):
            plan.ok += 1
        plan.actions.extend(planned)
    for sid in sorted(expected - seen):
        number = number_by_sid(sid)
        plan.actions.append(PlannedAction(
            FLAG_MISSING, sid, number.phone_number, "recorded but Twilio no longer has it",
            client_id=number.client_id, job_id=number.job_id))
    _plan_messaging_service(plan, missing=expected - seen)
    db.session.rollback()
    return plan


def _plan_number(incoming: IncomingNumber, desired: WebhookConfig) -> list[PlannedAction]:
    number = number_by_sid(incoming.sid)
    if number is None or number.status == "released":
        return [_plan_orphan(incoming, number)]
    planned = []
    if number.missing_at_twilio_since is not None:
        planned.append(PlannedAction(CLEAR_MISSING, number.sid, number.phone_number,
                                     "flagged missing, but Twilio has it again",
                                     client_id=number.client_id, incoming=incoming))
    if number.status in ("purchased", "active") and not incoming.matches(desired):
        planned.append(PlannedAction(
            REPAIR_WEBHOOKS, number.sid, number.phone_number,
            "; ".join(webhook_differences(incoming, desired)), client_id=number.client_id,
            job_id=number.job_id, incoming=incoming))
    return planned


def _plan_orphan(incoming: IncomingNumber, number: PhoneNumber | None) -> PlannedAction:
    """A number Twilio bills us for that no live record holds."""
    tag = tag_from_friendly_name(incoming.friendly_name)
    job = None
    if tag:
        job = db.session.scalar(sa.select(ProvisioningJob).where(ProvisioningJob.tag == tag))
    if job is None and number is None:
        # Not bought by a Ringly job (no tag of ours): report it, never release it.
        return PlannedAction(REPORT_UNTRACKED, incoming.sid, incoming.phone_number,
                             "in the account but not bought by Ringly", incoming=incoming)
    if job is not None and not job.is_terminal:
        return PlannedAction(ADOPT, incoming.sid, incoming.phone_number,
                             f"bought by job {job.id}, still {job.state}: the job adopts it",
                             client_id=job.client_id, job_id=job.id, incoming=incoming)
    why = f"its job {job.id} is {job.state}" if job is not None else "recorded as released"
    return PlannedAction(RELEASE_ORPHAN, incoming.sid, incoming.phone_number,
                         f"no live record holds it ({why})", job_id=job.id if job else None,
                         incoming=incoming)


def _plan_messaging_service(plan: ReconciliationPlan, missing: set[str]) -> None:
    service = plan.messaging_service
    if service is None:
        return
    try:
        listed = {number.sid for number in get_gateway().list_messaging_service_numbers(service)}
    except PermanentTelephonyError as error:
        if error.twilio_code == 20003:
            raise
        plan.notes.append(f"the Messaging Service {service} could not be listed: {error.message}")
        return
    active = db.session.scalars(sa.select(PhoneNumber).where(
        PhoneNumber.status == "active", PhoneNumber.missing_at_twilio_since.is_(None))
        .order_by(PhoneNumber.id))
    for number in active:
        capabilities = {key.lower(): bool(value)
                        for key, value in (number.capabilities or {}).items()}
        # Twilio takes only SMS- or MMS-capable numbers into a service (21715).
        can_text = capabilities.get("sms") or capabilities.get("mms")
        if number.sid not in listed and number.sid not in missing and can_text:
            plan.actions.append(PlannedAction(
                JOIN_MESSAGING_SERVICE, number.sid, number.phone_number,
                f"not in the Messaging Service {service}", client_id=number.client_id))


def reconcile_numbers(plan: ReconciliationPlan | None = None) -> dict[str, int]:
    """Apply a plan (the one an operator saw and confirmed), or plan and apply at once (beat).

    Each action is checked again against the database as it is applied, so a number that
    changed since the plan was made (a job adopted it, someone released it) is left alone."""
    with job_lock("reconcile-numbers") as locked:
        if not locked:
            return {"skipped": 1}
        plan = plan or plan_reconciliation()
        findings: Counter[str] = Counter({"ok": plan.ok} if plan.ok else {})
        for action in plan.actions:
            if action.kind == JOIN_MESSAGING_SERVICE:
                continue  # below, for the whole service at once
            if APPLY[action.kind](action, plan) and action.kind in FINDINGS:
                findings[FINDINGS[action.kind]] += 1
            db.session.commit()
        if plan.messaging_service:
            findings.update(repair_messaging_service())
        result = dict(findings)
        log.info("reconciliation: %s", result)
        return result


def _repair_webhooks(action: PlannedAction, plan: ReconciliationPlan) -> bool:
    number = number_by_sid(action.sid)
    if number is None or number.status not in ("purchased", "active"):
        return False
    before = action.incoming.voice_url if action.incoming else None
    repaired = get_gateway().update_webhooks(action.sid, plan.webhooks)
    record_configuration(number, repaired)
    record_event("number.drift_repaired", f"{number.phone_number}: webhooks pointed at "
                 f"{before!r}; set back to {plan.webhooks.voice_url!r}",
                 subject=number, data={"before": before, "differences": action.reason})
    events.emit("number.webhooks_repaired",
                {"sid": number.sid, "phone_number": number.phone_number,
                 "client_id": number.client_id, "source": "reconcile",
                 "voice_url_before": before, "voice_url": repaired.voice_url},
                client_id=number.client_id)
    return True


def _clear_missing(action: PlannedAction, plan: ReconciliationPlan) -> bool:
    number = number_by_sid(action.sid)
    if number is not None:
        number.missing_at_twilio_since = None
    return number is not None


def _adopt(action: PlannedAction, plan: ReconciliationPlan) -> bool:
    job = db.session.get(ProvisioningJob, action.job_id)
    if job is None or job.is_terminal:
        return False
    # Its job is still running: wake it so it adopts the number by its tag.
    send_now(tasks.RUN_PROVISIONING_JOB, job.id)
    record_event("number.adoption_requested", f"{action.phone_number} belongs to job "
                 f"{job.id}, which will adopt it", subject=job)
    return True


def _release_orphan(action: PlannedAction, plan: ReconciliationPlan) -> bool:
    number = number_by_sid(action.sid)
    job = db.session.get(ProvisioningJob, action.job_id) if action.job_id else None
    if (number is not None and number.status != "released") or (job and not job.is_terminal):
        return False  # recorded, or its job woke up, since the plan was made
    row = phone_number_row(action.incoming, job_id=action.job_id, client_id=None)
    db.session.flush()
    status = release_now(row, "orphan found by reconciliation")
    record_event("number.orphan_released", f"{action.phone_number} had no record "
                 f"(job {action.job_id or '-'}); {status}", subject=row)
    return True


def _report_untracked(action: PlannedAction, plan: ReconciliationPlan) -> bool:
    record_event("number.untracked", f"{action.phone_number} ({action.sid}) is in the "
                 "account but was not bought by Ringly", data={"sid": action.sid})
    return True


def _flag_missing(action: PlannedAction, plan: ReconciliationPlan) -> bool:
    number = number_by_sid(action.sid)
    if number is None or number.status == "released":
        return False
    if number.missing_at_twilio_since is None:
        number.missing_at_twilio_since = utcnow()
        record_event("number.missing_at_twilio", f"{number.phone_number} ({action.sid}) is "
                     "recorded but Twilio no longer has it", subject=number)
    return True


APPLY = {REPAIR_WEBHOOKS: _repair_webhooks, CLEAR_MISSING: _clear_missing, ADOPT: _adopt,
         RELEASE_ORPHAN: _release_orphan, REPORT_UNTRACKED: _report_untracked,
         FLAG_MISSING: _flag_missing}
