"""Provision requests: client + job in one transaction, idempotency keys, waiting, the sweep."""
from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ringly import tasks
from ringly.admin.services import record_event
from ringly.clients.models import Client
from ringly.db import db, utcnow
from ringly.errors import Conflict, NotFound
from ringly.paging import Keyset, Page, keyset_page
from ringly.provisioning import presenters
from ringly.provisioning.lifecycle import number_by_sid
from ringly.provisioning.models import (
    TERMINAL_JOB_STATES,
    PhoneNumber,
    ProvisioningJob,
    new_job_id,
)
from ringly.provisioning.saga import fail_job, job_lock
from ringly.provisioning.states import JobState, JobStep
from ringly.queue import enqueue_after_commit, send_now

# `Prefer: wait` holds a web thread: 10 s at most, so a few waiting clients cannot starve the
# threads Twilio's webhooks need.
MAX_WAIT_S = 10
CLIENT_FIELDS = ("business_name", "email", "user_id", "custom_greeting", "country", "timezone")


@dataclass
class Submission:
    job: ProvisioningJob
    created: bool


@dataclass
class Provisioned:
    """What a provision request came to: its job (as it stood after any wait), the number the
    job bought if any, whether this request created the job, and the wait applied (None when
    the caller asked for none)."""

    job: ProvisioningJob
    number: PhoneNumber | None
    created: bool
    waited: int | None

    @property
    def finished(self) -> bool:
        """The caller asked to wait and the job ended within it: the final answer is ready."""
        return self.waited is not None and self.job.is_terminal


def provision(body: dict[str, Any], *, idempotency_key: str | None = None,
              wait: int | None = None, api_key_id: int | None = None,
              admin_user_id: int | None = None) -> Provisioned:
    """Submit a provision request (or find the one this key already made), then wait up to
    `wait` seconds (capped at MAX_WAIT_S) for its job to end."""
    submission = submit_provision(body, idempotency_key, api_key_id, admin_user_id)
    job, waited = submission.job, None
    if wait is not None:
        waited = min(wait, MAX_WAIT_S)
        job = wait_for_job(job, waited)
    return Provisioned(job, job_number(job), submission.created, waited)


def fingerprint(body: dict[str, Any]) -> str:
    """A stable hash of a request body, to tell a replay from a different request."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def submit_provision(body: dict[str, Any], idempotency_key: str | None = None,
                     api_key_id: int | None = None,
                     admin_user_id: int | None = None) -> Submission:
    """Create the client and its job in one transaction and queue the job after commit.

    An Idempotency-Key belongs to the API key that sent it: the same key and body from the same
    API key is the same job, another body is a conflict, another API key's use is its own job."""
    digest = fingerprint(body)
    if idempotency_key:
        locked = _lock_ownerless_key(idempotency_key, api_key_id)
        existing = _job_for_key(idempotency_key, api_key_id, digest)
        if existing is not None:
            if locked:
                db.session.commit()  # ends the transaction, and so the key's lock
            return Submission(_same_request_or_conflict(existing, digest), created=False)
    client = Client(**{name: body[name] for name in CLIENT_FIELDS if body.get(name) is not None})
    client.rachel_enabled = True
    if body.get("timezone"):
        client.timezone_source = "explicit"  # else the number's zone, once it is bought
    db.session.add(client)
    db.session.flush()
    job = ProvisioningJob(
        client_id=client.id, state=JobState.QUEUED, step=JobStep.QUEUED, tag=secrets.token_hex(4),
        api_key_id=api_key_id, admin_user_id=admin_user_id, idempotency_key=idempotency_key,
        request_fingerprint=digest,
        request=dict(body),
    )
    db.session.add(job)
    try:
        db.session.flush()
    except IntegrityError:
        # Another request with the same key won the race: answer with its job.
        db.session.rollback()
        existing = _job_for_key(idempotency_key, api_key_id, digest) if idempotency_key else None
        if existing is None:
            raise
        return Submission(_same_request_or_conflict(existing, digest), created=False)
    record_event("provisioning.requested", f"provisioning for {client.business_name!r}",
                 subject=job, data={"client_id": client.id})
    enqueue_after_commit(tasks.RUN_PROVISIONING_JOB, job.id)
    db.session.commit()
    return Submission(job, created=True)


def _lock_ownerless_key(key: str, api_key_id: int | None) -> bool:
    """Serialise, until this transaction ends, requests carrying `key` without an API key (the
    operator's CLI): the unique index treats their NULL owners as all different, so two runs of
    one file could otherwise both create its jobs. True when a lock was taken."""
    if api_key_id is not None or db.session.get_bind().dialect.name != "postgresql":
        return False
    lock_id = int.from_bytes(hashlib.sha256(f"idempotency:{key}".encode()).digest()[:8],
                             "big", signed=True)
    db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})
    return True


def _job_for_key(key: str, api_key_id: int | None, digest: str) -> ProvisioningJob | None:
    job = _keyed_job(key, api_key_id)
    if job is None and api_key_id is not None:
        # Jobs recorded before keys were kept per API key have none: they still answer a
        # replay of their exact request, so a retry across the upgrade does not buy twice.
        legacy = _keyed_job(key, None)
        if legacy is not None and legacy.request_fingerprint == digest:
            return legacy
    return job


def _keyed_job(key: str, api_key_id: int | None) -> ProvisioningJob | None:
    owner = (ProvisioningJob.api_key_id.is_(None) if api_key_id is None
             else ProvisioningJob.api_key_id == api_key_id)
    return db.session.scalar(
        sa.select(ProvisioningJob).where(ProvisioningJob.idempotency_key == key, owner)
        .order_by(ProvisioningJob.created_at).limit(1)
    )


def _same_request_or_conflict(job: ProvisioningJob, digest: str) -> ProvisioningJob:
    if job.request_fingerprint != digest:
        raise Conflict("this Idempotency-Key was already used with a different request body",
                       job_id=job.id)
    return job


def get_job(job_id: str) -> ProvisioningJob:
    job = db.session.get(ProvisioningJob, job_id)
    if job is None:
        raise NotFound(f"no provisioning job {job_id}")
    return job


def wait_for_job(job: ProvisioningJob, seconds: float) -> ProvisioningJob:
    """Re-read the job until it is terminal or `seconds` pass (the caller's Prefer: wait)."""
    deadline = time.monotonic() + min(seconds, MAX_WAIT_S)
    while job.state not in TERMINAL_JOB_STATES and time.monotonic() < deadline:
        # End the read transaction so the next read sees the worker's commits.
        db.session.rollback()
        time.sleep(0.2)
        job = db.session.get(ProvisioningJob, job.id, populate_existing=True)
    return job


def job_number(job: ProvisioningJob) -> PhoneNumber | None:
    return number_by_sid(job.twilio_sid)


def wait_for_jobs(job_ids: Collection[str], seconds: float,
                  progress: Callable[[int], None] | None = None) -> int:
    """Wait until every job is terminal or `seconds` pass (an operator's command, which may wait
    longer than a web request); `progress(n)` hears how many ended so far. Returns that number."""
    ids = list(dict.fromkeys(job_ids))
    deadline = time.monotonic() + max(seconds, 0.0)
    while True:
        ended = 0
        for start in range(0, len(ids), 500):
            ended += db.session.scalar(
                sa.select(sa.func.count()).select_from(ProvisioningJob).where(
                    ProvisioningJob.id.in_(ids[start:start + 500]),
                    ProvisioningJob.state.in_(TERMINAL_JOB_STATES))) or 0
        # End the read transaction so the next read sees the worker's commits.
        db.session.rollback()
        if progress is not None:
            progress(ended)
        if ended >= len(ids) or time.monotonic() >= deadline:
            return ended
        time.sleep(0.5)


def retry_job(job_id: str, admin_user_id: int | None = None) -> ProvisioningJob:
    """A new job for a failed job's client, with the same request; the failed job stays as it
    ended (a failed job never runs again: failing it released its number and told the embedding
    product). It cannot buy twice: refused unless the job failed, its client still exists and
    holds no number, the number the job bought (if any) is no longer live, and no other job of
    the client is running (the client's row is locked while this is checked)."""
    job = get_job(job_id)
    if job.state != JobState.FAILED:
        raise Conflict(f"job {job.id} is {job.state}: only a failed job can be retried",
                       job_id=job.id)
    client = db.session.scalar(sa.select(Client).where(Client.id == job.client_id)
                               .with_for_update()) if job.client_id is not None else None
    if client is None:
        raise Conflict(f"job {job.id}'s client no longer exists: provision again", job_id=job.id)
    if client.twilio_number_sid:
        raise Conflict(f"client {client.id} already has the number {client.ringlypro_number}",
                       job_id=job.id)
    bought = job_number(job)
    if bought is not None and bought.status in ("purchased", "active"):
        raise Conflict(f"job {job.id}'s number {bought.phone_number} is still {bought.status}: "
                       "release it first", job_id=job.id)
    running = db.session.scalar(sa.select(ProvisioningJob).where(
        ProvisioningJob.client_id == client.id,
        ProvisioningJob.state.not_in(TERMINAL_JOB_STATES)).limit(1))
    if running is not None:
        raise Conflict(f"client {client.id} already has job {running.id}, {running.state}",
                       job_id=running.id)
    # What the saga added while it ran (its candidate) is not part of the request.
    request = {name: value for name, value in job.request.items() if not name.startswith("_")}
    retry = ProvisioningJob(
        id=new_job_id(), client_id=client.id, state=JobState.QUEUED, step=JobStep.QUEUED,
        tag=secrets.token_hex(4), request_fingerprint=fingerprint(request), request=request,
        admin_user_id=admin_user_id)
    db.session.add(retry)
    if bought is not None:
        client.rachel_enabled = True  # as the request had it, before its number was released
    record_event("provisioning.retried", f"job {job.id} ({job.error_code}) retried as job "
                 f"{retry.id}", subject=retry,
                 data={"retry_of": job.id, "error_code": job.error_code})
    enqueue_after_commit(tasks.RUN_PROVISIONING_JOB, retry.id)
    db.session.commit()
    return retry


def _created(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError("naive")
    return moment


def _job_id(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 36:
        raise ValueError("not a job id")
    return value


# Newest first by creation; ties (jobs made in the same microsecond) by id.
JOB_PAGES = Keyset("provisioning-jobs", lambda job: (job.created_at.isoformat(), job.id),
                   (_created, _job_id))


def list_jobs(args: dict[str, Any]) -> Page:
    """A page of jobs newest first, filtered by `status`, `client_id` and creation time in
    [`created_from`, `created_to`), each as GET /api/provisioning-jobs/<id> shows it."""
    page = keyset_page(JOB_PAGES, args, partial(_jobs, args))
    sids = [job.twilio_sid for job in page.rows if job.twilio_sid]
    numbers = {number.sid: number for number in db.session.scalars(
        sa.select(PhoneNumber).where(PhoneNumber.sid.in_(sids)))} if sids else {}
    return Page([presenters.job_resource(job, numbers.get(job.twilio_sid)) for job in page.rows],
                page.cursor)


def _jobs(args: dict[str, Any], limit: int,
          after: tuple[datetime, str] | None) -> list[ProvisioningJob]:
    query = sa.select(ProvisioningJob).options(selectinload(ProvisioningJob.client))
    if args.get("status"):
        query = query.where(ProvisioningJob.state == args["status"])
    if args.get("client_id") is not None:
        query = query.where(ProvisioningJob.client_id == args["client_id"])
    if args.get("created_from") is not None:
        query = query.where(ProvisioningJob.created_at >= args["created_from"])
    if args.get("created_to") is not None:
        query = query.where(ProvisioningJob.created_at < args["created_to"])
    if after is not None:
        created_at, job_id = after
        query = query.where(sa.or_(
            ProvisioningJob.created_at < created_at,
            sa.and_(ProvisioningJob.created_at == created_at, ProvisioningJob.id < job_id)))
    return list(db.session.scalars(
        query.order_by(ProvisioningJob.created_at.desc(), ProvisioningJob.id.desc()).limit(limit)))


def job_with_number(job_id: str) -> tuple[ProvisioningJob, PhoneNumber | None]:
    """A job and the number it bought, if any (404 for an unknown job)."""
    job = get_job(job_id)
    return job, job_number(job)


def sweep_stale_jobs() -> dict[str, int]:
    """Re-queue jobs stuck past the deadline; fail those past the attempt cap.

    Each job is read again under its lock before anything is done to it: one that a worker
    ended or moved on since the first read is left alone (failing a job that had just
    completed would release the client's live number).
    """
    stale_after = float(current_app.config.get("PROVISIONING_STALE_AFTER", 120))
    cap = int(current_app.config.get("PROVISIONING_MAX_ATTEMPTS", 10))
    now = utcnow()
    cutoff = now - timedelta(seconds=stale_after)
    stuck_ids = list(db.session.scalars(sa.select(ProvisioningJob.id).where(*_stale(cutoff))))
    db.session.rollback()
    outcomes = {"requeued": 0, "failed": 0}
    for job_id in stuck_ids:
        outcome = _settle_stale_job(job_id, cutoff, cap, now)
        if outcome == "requeued":
            # Sent only now the job's lock is free: a worker that found it held would drop it.
            send_now(tasks.RUN_PROVISIONING_JOB, job_id)
        if outcome is not None:
            outcomes[outcome] += 1
    return outcomes


def _stale(cutoff: datetime) -> tuple[sa.ColumnElement[bool], ...]:
    """Not ended, untouched since `cutoff`, and no retry due after it."""
    return (
        ProvisioningJob.state.not_in(TERMINAL_JOB_STATES),
        ProvisioningJob.updated_at < cutoff,
        sa.or_(ProvisioningJob.next_attempt_at.is_(None),
               ProvisioningJob.next_attempt_at < cutoff),
    )


def _settle_stale_job(job_id: str, cutoff: datetime, cap: int, now: datetime) -> str | None:
    """Under the job's lock, fail the job (at the cap) or mark it for a re-send; None when it
    is running, ended, or made progress since the sweep read it."""
    with job_lock(job_id) as locked:
        if not locked:
            return None  # a worker is running it right now
        job = db.session.scalar(
            sa.select(ProvisioningJob).where(ProvisioningJob.id == job_id, *_stale(cutoff))
            .with_for_update().execution_options(populate_existing=True)
        )
        if job is None:
            db.session.rollback()
            return None
        if job.attempts >= cap:
            message = f"stuck in {job.state} after {job.attempts} attempts"
            return "failed" if fail_job(job, "stale", message) else None
        job.updated_at = now  # one re-send per deadline, not one per sweep
        db.session.commit()
        return "requeued"


def expire_idempotency_keys() -> int:
    """Forget the Idempotency-Keys of finished jobs older than the retention (at least 24 h).

    The job itself stays; only its key is freed, so the unique index does not grow forever."""
    hours = max(24.0, float(current_app.config.get("IDEMPOTENCY_KEY_RETENTION_HOURS", 48)))
    cutoff = utcnow() - timedelta(hours=hours)
    result = db.session.execute(
        sa.update(ProvisioningJob)
        .where(ProvisioningJob.idempotency_key.is_not(None),
               ProvisioningJob.state.in_(TERMINAL_JOB_STATES),
               ProvisioningJob.created_at < cutoff)
        .values(idempotency_key=None)
    )
    db.session.commit()
    return result.rowcount
