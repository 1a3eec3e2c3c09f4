"""Reconciliation: every number at Twilio against the database, findings in audit_events."""
from __future__ import annotations

import logging
from collections import Counter

import sqlalchemy as sa

from ringly import events, tasks
from ringly.admin.services import record_event
from ringly.db import db, utcnow
from ringly.provisioning.lifecycle import (
    number_by_sid,
    phone_number_row,
    record_configuration,
    release_now,
)
from ringly.provisioning.messaging_service import repair_messaging_service
from ringly.provisioning.models import PhoneNumber, ProvisioningJob
from ringly.provisioning.numbers import desired_webhooks, tag_from_friendly_name
from ringly.provisioning.saga import job_lock
from ringly.queue import send_now
from ringly.telephony import IncomingNumber, get_gateway

log = logging.getLogger(__name__)


def reconcile_numbers() -> dict[str, int]:
    """Adopt or release tagged orphans, flag missing numbers, repair webhook drift, and put
    numbers missing from the Messaging Service back in it."""
    with job_lock("reconcile-numbers") as locked:
        if not locked:
            return {"skipped": 1}
        findings: Counter[str] = Counter()
        desired = desired_webhooks()
        expected = {
            sid for (sid,) in db.session.execute(
                sa.select(PhoneNumber.sid).where(PhoneNumber.status != "released")
            )
        }
        seen: set[str] = set()
        for incoming in get_gateway().iter_numbers(page_size=100):
            seen.add(incoming.sid)
            findings[_check_number(incoming, desired)] += 1
            db.session.commit()
        for sid in expected - seen:
            number = number_by_sid(sid)
            if number is None or number.status == "released":
                continue
            findings["missing_at_twilio"] += 1
            if number.missing_at_twilio_since is None:
                number.missing_at_twilio_since = utcnow()
                record_event("number.missing_at_twilio", f"{number.phone_number} ({sid}) is "
                             "recorded but Twilio no longer has it", subject=number)
        db.session.commit()
        findings.update(repair_messaging_service())
        result = dict(findings)
        log.info("reconciliation: %s", result)
        return result


def _check_number(incoming: IncomingNumber, desired) -> str:
    number = number_by_sid(incoming.sid)
    if number is None or number.status == "released":
        return _orphan(incoming, number)
    if number.missing_at_twilio_since is not None:
        number.missing_at_twilio_since = None
    if number.status in ("purchased", "active") and not incoming.matches(desired):
        repaired = get_gateway().update_webhooks(incoming.sid, desired)
        record_configuration(number, repaired)
        record_event("number.drift_repaired", f"{number.phone_number}: webhooks pointed at "
                     f"{incoming.voice_url!r}; set back to {desired.voice_url!r}",
                     subject=number, data={"before": incoming.voice_url})
        events.emit("number.webhooks_repaired",
                    {"sid": number.sid, "phone_number": number.phone_number,
                     "client_id": number.client_id, "source": "reconcile",
                     "voice_url_before": incoming.voice_url, "voice_url": repaired.voice_url},
                    client_id=number.client_id)
        return "drift_repaired"
    return "ok"


def _orphan(incoming: IncomingNumber, number: PhoneNumber | None) -> str:
    """A number Twilio bills us for that no live record holds."""
    tag = tag_from_friendly_name(incoming.friendly_name)
    job = None
    if tag:
        job = db.session.scalar(sa.select(ProvisioningJob).where(ProvisioningJob.tag == tag))
    if job is None and number is None:
        # Not bought by a Ringly job (no tag of ours): report it, never release it.
        record_event("number.untracked", f"{incoming.phone_number} ({incoming.sid}) is in the "
                     "account but was not bought by Ringly", data={"sid": incoming.sid})
        return "untracked"
    if job is not None and not job.is_terminal:
        # Its job is still running: wake it so it adopts the number by its tag.
        send_now(tasks.RUN_PROVISIONING_JOB, job.id)
        record_event("number.adoption_requested", f"{incoming.phone_number} belongs to job "
                     f"{job.id}, which will adopt it", subject=job)
        return "adopted_by_job"
    row = phone_number_row(incoming, job_id=job.id if job else None, client_id=None)
    db.session.flush()
    status = release_now(row, "orphan found by reconciliation")
    record_event("number.orphan_released", f"{incoming.phone_number} had no record "
                 f"(job {job.id if job else '-'}); {status}", subject=row)
    return "orphan_released"
