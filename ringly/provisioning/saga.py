"""The provisioning saga: each step commits a recovery point before its side effect."""
from __future__ import annotations

import logging
import random
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from ringly import events, logs, metrics
from ringly.admin.services import record_event
from ringly.db import db, utcnow
from ringly.provisioning import guard, messaging_service, selection
from ringly.provisioning.exceptions import JobFailed, RetryLater
from ringly.provisioning.lifecycle import (
    number_by_sid,
    phone_number_row,
    record_configuration,
    release_now,
)
from ringly.provisioning.models import ProvisioningJob
from ringly.provisioning.numbers import desired_webhooks, friendly_name
from ringly.provisioning.states import JobState, JobStep
from ringly.provisioning.time_zones import assign_number_zone
from ringly.provisioning.verification import VerificationFailed, verify_voice_entry
from ringly.queue import retry_delay
from ringly.signals import client_wording_changed, verification_call_made
from ringly.telephony import (
    IncomingNumber,
    PermanentTelephonyError,
    TransientTelephonyError,
    get_gateway,
)

log = logging.getLogger(__name__)

NUMBER_TAKEN = 21422
MAX_CANDIDATES_PER_RUN = 25
AUTH_MESSAGE = (
    "Twilio rejected Ringly's credentials (20003): check TWILIO_ACCOUNT_SID and "
    "TWILIO_AUTH_TOKEN"
)

# Checks the voice URL for the number; returns the CallSid of the request it made, if any.
Verifier = Callable[[str, str], str | None]


def backoff_delay(attempt: int, retry_after: float | None = None) -> float:
    """Capped exponential backoff with full jitter, never shorter than Twilio's Retry-After,
    and never longer than MAX_RETRY_DELAY (a longer wait outlives the broker's visibility
    timeout and the task is delivered twice; the retry simply asks Twilio again)."""
    base = float(current_app.config.get("PROVISIONING_BACKOFF_BASE", 0.5))
    cap = float(current_app.config.get("PROVISIONING_BACKOFF_CAP", 30.0))
    delay = random.uniform(base / 2, min(cap, base * 2 ** max(attempt - 1, 0)))
    return retry_delay(max(delay, retry_after or 0.0))


@contextmanager
def job_lock(job_id: str) -> Iterator[bool]:
    """Hold a PostgreSQL session advisory lock for the job on its own connection.

    A redelivered task and the stale-job sweep can both start a job; only one runs it.
    The lock dies with the connection, so a SIGKILLed worker never keeps a job locked.
    """
    if db.engine.dialect.name != "postgresql":
        yield True
        return
    key = 1_000_000_000_000 + zlib.crc32(job_id.encode())
    with db.engine.connect() as connection:
        locked = connection.scalar(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
        connection.commit()
        try:
            yield bool(locked)
        finally:
            if locked:
                connection.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                connection.commit()


def advance(job_id: str, *, verifier: Verifier = verify_voice_entry) -> str:
    """Run the job from its last recovery point to the end, or raise RetryLater.

    Returns the job's state afterwards ("busy" when another process holds the job).
    """
    with job_lock(job_id) as locked:
        if not locked:
            return "busy"
        job = db.session.get(ProvisioningJob, job_id, populate_existing=True)
        if job is None or job.is_terminal:
            return job.state if job else "missing"
        logs.bind(client_id=job.client_id)
        job.attempts += 1
        if job.state == JobState.QUEUED:
            job.move_to(JobState.SEARCHING)
        job.next_attempt_at = None
        db.session.commit()
        try:
            _run(job, verifier)
        except TransientTelephonyError as error:
            db.session.rollback()
            _retry_or_give_up(job, f"Twilio was unavailable ({error})", error.retry_after)
        except VerificationFailed as error:
            db.session.rollback()
            _retry_or_give_up(job, str(error), None, code="verification_failed")
        except PermanentTelephonyError as error:
            db.session.rollback()
            code = error.twilio_code
            message = AUTH_MESSAGE if code == 20003 else _human_twilio_message(job, error)
            fail_job(job, "twilio_error", message, twilio_code=code)
        except JobFailed as failure:
            db.session.rollback()
            fail_job(job, failure.code, failure.message, twilio_code=failure.twilio_code)
        return job.state


def _retry_or_give_up(job: ProvisioningJob, reason: str, retry_after: float | None,
                      code: str = "twilio_unavailable") -> None:
    cap = int(current_app.config.get("PROVISIONING_MAX_ATTEMPTS", 10))
    if job.attempts >= cap:
        fail_job(job, code, f"gave up after {job.attempts} attempts: {reason}")
        return
    delay = backoff_delay(job.attempts, retry_after)
    job.next_attempt_at = utcnow() + timedelta(seconds=delay)
    job.error_message = reason[:1000]
    db.session.commit()
    raise RetryLater(delay, reason)


def _human_twilio_message(job: ProvisioningJob, error: PermanentTelephonyError) -> str:
    number = job.chosen_number or job.request.get("phoneNumber")
    known = {
        21422: f"the number {number} is no longer available",
        21421: f"the number {number} is not a valid phone number",
        21452: "no numbers are available for this request",
    }
    text = known.get(error.twilio_code or 0, error.message)
    return f"{text} (Twilio error {error.twilio_code})"


def fail_job(job: ProvisioningJob, code: str, message: str,
             twilio_code: int | None = None) -> bool:
    """End the job `failed`; a number it already recorded is released (or quarantined).

    The row is read again, locked, first: a job that ended since the caller read it (a worker
    completed it) is left as it is, with its live number, and False is returned.
    """
    db.session.refresh(job, with_for_update=True)
    if job.is_terminal:
        db.session.rollback()
        log.warning("job %s is already %s: not failing it (%s: %s)", job.id, job.state, code,
                    message)
        return False
    number = number_by_sid(job.twilio_sid)
    if number is not None and number.status in ("purchased", "active"):
        outcome = release_now(number, f"job {job.id} failed: {code}")
        message += (f"; the number {number.phone_number} was released at Twilio"
                    if outcome == "released"
                    else f"; the number {number.phone_number} is quarantined until released")
    job.move_to(JobState.FAILED)
    job.error_code, job.error_message, job.twilio_error_code = code, message, twilio_code
    metrics.count_job_failure(code)
    record_event("provisioning.failed", message, subject=job,
                 data={"code": code, "twilio_code": twilio_code})
    events.emit("number.provisioning_failed",
                {"job_id": job.id, "client_id": job.client_id, "code": code, "message": message,
                 "twilio_code": twilio_code}, client_id=job.client_id)
    db.session.commit()
    return True


def _run(job: ProvisioningJob, verifier: Verifier) -> None:
    incoming: IncomingNumber | None = None
    fresh_purchase_mark = False
    candidates_tried = 0
    while not job.is_terminal:
        if job.state in (JobState.QUEUED, JobState.SEARCHING):
            candidates_tried += 1
            if candidates_tried > MAX_CANDIDATES_PER_RUN:
                raise RetryLater(backoff_delay(job.attempts), "every candidate was taken")
            _select_number(job)
            fresh_purchase_mark = True
        elif job.state == JobState.PURCHASING:
            incoming = _purchase(job, after_fresh_mark=fresh_purchase_mark)
        elif job.step == JobStep.ADD_TO_MESSAGING_SERVICE:
            messaging_service.join_messaging_service(job)
        elif job.state == JobState.CONFIGURING:
            incoming = _configure(job, incoming)
        elif job.state == JobState.VERIFYING:
            _verify(job, verifier)


def _select_number(job: ProvisioningJob) -> None:
    """Choose a candidate, pass the spending guard, then commit the purchase recovery point."""
    # Searching has no side effect worth a recovery point; the purchase mark below is one.
    job.move_to(JobState.SEARCHING)
    candidate, reason = selection.choose_candidate(job)
    guard.lock_spending()
    try:
        guard.check_spending(job)
    except guard.SpendingLimitReached as limit:
        raise JobFailed("spending_limit", str(limit)) from None
    job.chosen_number = candidate["phone_number"]
    job.choice_reason = reason
    job.request = {**job.request, "_candidate": candidate}
    job.move_to(JobState.PURCHASING)
    job.purchase_started_at = utcnow()
    db.session.commit()


def _purchase(job: ProvisioningJob, *, after_fresh_mark: bool) -> IncomingNumber | None:
    gateway = get_gateway()
    name = friendly_name(job.request["business_name"], job.tag)
    if job.purchase_started_at is not None and not after_fresh_mark:
        # An earlier attempt may have bought it and lost the answer: look before buying.
        found = gateway.find_numbers(friendly_name=name)
        if found:
            job.choice_reason = (job.choice_reason or "") + "; adopted after a lost response"
            return _record_purchase(job, found[0])
    if job.purchase_started_at is None:
        job.purchase_started_at = utcnow()
        db.session.commit()
    try:
        incoming = gateway.purchase(
            phone_number=job.chosen_number, friendly_name=name, webhooks=desired_webhooks()
        )
    except PermanentTelephonyError as error:
        if error.twilio_code == NUMBER_TAKEN and not job.request.get("phoneNumber"):
            # Someone else bought it first: nothing was bought, so try the next candidate.
            job.move_to(JobState.SEARCHING)
            job.purchase_started_at = None
            job.choice_reason = f"{job.chosen_number} was taken (21422); choosing again"
            job.chosen_number = None
            db.session.commit()
            return None
        raise
    except TransientTelephonyError as error:
        if not error.outcome_unknown:
            # Definitely not processed (e.g. 429): the retry may buy without looking first.
            job.purchase_started_at = None
            db.session.commit()
        raise
    return _record_purchase(job, incoming)


def _record_purchase(job: ProvisioningJob, incoming: IncomingNumber) -> IncomingNumber | None:
    """Record the number and the client's number in one commit, or compensate."""
    metrics.count_number("bought")  # just now, or by an attempt whose answer was lost
    details = job.request.get("_candidate") or {}
    try:
        number = phone_number_row(incoming, job_id=job.id, client_id=job.client_id,
                                  details=details)
        client = job.client
        if client is None:
            raise JobFailed("client_write_failed", "the client no longer exists")
        client.ringlypro_number = incoming.phone_number
        client.twilio_number_sid = incoming.sid
        assign_number_zone(client, number)  # unless the client chose its zone
        job.twilio_sid, job.chosen_number = incoming.sid, incoming.phone_number
        if incoming.matches(desired_webhooks()):
            # Twilio's answer already shows every webhook as wanted: nothing to configure.
            job.move_to(*messaging_service.after_configuration())
        else:
            job.move_to(JobState.CONFIGURING)
        # The audit log names the key that asked for the number, not only the worker.
        record_event("number.purchased", f"{incoming.phone_number} bought for job {job.id}",
                     subject=number, api_key_id=job.api_key_id, admin_user_id=job.admin_user_id,
                     data={"job_id": job.id, "sid": incoming.sid})
        db.session.commit()
        return incoming
    except (IntegrityError, JobFailed) as error:
        db.session.rollback()
        reason = error.message if isinstance(error, JobFailed) else "a database constraint failed"
        _compensate(job, incoming, reason)
        return None


def _compensate(job: ProvisioningJob, incoming: IncomingNumber, reason: str) -> None:
    """The client's number could not be written: record the number unassigned, then release."""
    number = phone_number_row(incoming, job_id=job.id, client_id=None)
    job.twilio_sid = incoming.sid
    db.session.commit()
    fail_job(job, "client_write_failed",
             f"the number {incoming.phone_number} was bought but could not be saved for the "
             f"client ({reason})")
    log.warning("job %s compensated: %s -> %s", job.id, incoming.sid, number.status)


def _configure(job: ProvisioningJob, incoming: IncomingNumber | None) -> IncomingNumber:
    """Make Twilio's configuration match the desired webhooks (no request when it already does)."""
    gateway = get_gateway()
    desired = desired_webhooks()
    if incoming is None or incoming.sid != job.twilio_sid:
        incoming = gateway.fetch_number(job.twilio_sid)
    if not incoming.matches(desired):
        incoming = gateway.update_webhooks(job.twilio_sid, desired)
        if not incoming.matches(desired):
            raise JobFailed("configuration_mismatch",
                            "Twilio did not keep the webhook configuration Ringly set")
    number = number_by_sid(job.twilio_sid)
    record_configuration(number, incoming)
    job.move_to(*messaging_service.after_configuration())
    db.session.commit()
    return incoming


def _verify(job: ProvisioningJob, verifier: Verifier) -> None:
    call_sid = verifier(desired_webhooks().voice_url, job.chosen_number)
    number = number_by_sid(job.twilio_sid)
    number.status = "active"
    job.move_to(JobState.COMPLETED)
    job.error_message = None
    record_event("provisioning.completed", f"{job.chosen_number} ready for client "
                 f"{job.client_id}", subject=job, data={"sid": job.twilio_sid})
    events.emit("number.provisioned",
                {"job_id": job.id, "client_id": job.client_id, "phone_number": number.phone_number,
                 "sid": number.sid, "number_type": number.number_type},
                client_id=job.client_id)
    if job.client_id is not None:
        client_wording_changed.send(job.client_id)
    if call_sid:
        # Voice marks the request's call row `verification` and finished, in this commit.
        verification_call_made.send(call_sid)
    db.session.commit()
