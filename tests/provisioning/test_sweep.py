"""The stale-job sweep: re-sends stuck jobs, fails worn ones, and never touches one that moved on.

The races are driven deterministically: a hook on the sweep's first read (the list of stale
jobs) lets another session (a worker, on its own connection) finish or advance the job before
the sweep goes on to take the job's lock.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from ringly import tasks
from ringly.clients.models import Client
from ringly.db import db
from ringly.provisioning import saga
from ringly.provisioning.exceptions import RetryLater
from ringly.provisioning.models import PhoneNumber, ProvisioningJob
from ringly.provisioning.saga import fail_job, job_lock
from ringly.provisioning.services import sweep_stale_jobs
from ringly.provisioning.states import JobState
from ringly.provisioning.verification import VerificationFailed
from tests.provisioning.conftest import make_job

LONG_AGO = datetime.now(UTC) - timedelta(hours=1)


def not_yet(url: str, number: str) -> None:
    raise VerificationFailed("the voice URL is not answering yet")


def passes(url: str, number: str) -> None:
    return None


def job_waiting_for_verification(name: str = "Bella Salon") -> str:
    """A job that bought and configured its number and stopped before verification passed."""
    job_id = make_job({"business_name": name, "email": "o@example.com", "areaCode": "415"}).id
    with pytest.raises(RetryLater):
        saga.advance(job_id, verifier=not_yet)
    db.session.remove()
    return job_id


def make_stale(job_id: str, **fields) -> None:
    """As if nothing had touched the job for an hour and no retry were due."""
    db.session.execute(sa.update(ProvisioningJob).where(ProvisioningJob.id == job_id).values(
        updated_at=LONG_AGO, next_attempt_at=None, **fields))
    db.session.commit()
    db.session.remove()


def in_another_session(app, work: Callable[[], object]) -> object:
    """Run `work` as another process would: its own thread, app context, session, connection."""
    outcome: list[object] = []

    def run() -> None:
        with app.app_context():
            try:
                outcome.append(work())
            except Exception as error:  # handed back to the test's thread
                outcome.append(error)
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return outcome[0]


@contextmanager
def after_the_sweep_reads_stale_jobs(action: Callable[[], None]) -> Iterator[list[str]]:
    """Run `action` once, right after the sweep's query for stale jobs has read its rows."""
    fired: list[str] = []

    def hook(conn, cursor, statement, parameters, context, executemany) -> None:
        if not fired and "FROM provisioning_jobs" in statement and "updated_at <" in statement:
            fired.append(statement)
            action()

    sa.event.listen(db.engine, "after_cursor_execute", hook)
    try:
        yield fired
    finally:
        sa.event.remove(db.engine, "after_cursor_execute", hook)


def _job(job_id: str) -> ProvisioningJob:
    db.session.remove()
    return db.session.get(ProvisioningJob, job_id)


def _number(sid: str) -> PhoneNumber:
    return db.session.scalar(sa.select(PhoneNumber).where(PhoneNumber.sid == sid))


@pytest.fixture
def postgres(prov):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the job lock and row locks are PostgreSQL's")
    return prov


def test_sweep_requeues_stale_jobs_and_fails_those_past_the_cap(prov, sandbox, sent_tasks):
    stale = make_job({"business_name": "A", "email": "a@example.com"})
    worn = make_job({"business_name": "B", "email": "b@example.com"},
                    attempts=prov.config["PROVISIONING_MAX_ATTEMPTS"], state="searching")
    fresh = make_job({"business_name": "C", "email": "c@example.com"})
    stale_id, worn_id, fresh_id = stale.id, worn.id, fresh.id
    for job_id in (stale_id, worn_id):
        make_stale(job_id)
    assert sweep_stale_jobs() == {"requeued": 1, "failed": 1}
    assert sent_tasks == [(tasks.RUN_PROVISIONING_JOB, (stale_id,))]
    worn = _job(worn_id)
    assert (worn.state, worn.error_code, worn.step) == (JobState.FAILED, "stale", None)
    assert worn.error_message == f"stuck in searching after {worn.attempts} attempts"
    assert worn.finished_at is not None
    assert _job(fresh_id).state == JobState.QUEUED
    # The re-send counts as touching the job: the next sweep waits for the next deadline.
    assert sweep_stale_jobs() == {"requeued": 0, "failed": 0}


def test_sweep_never_fails_a_job_that_completed_after_it_was_read(postgres, sandbox,
                                                                  sent_tasks):
    job_id = job_waiting_for_verification()
    make_stale(job_id, attempts=postgres.config["PROVISIONING_MAX_ATTEMPTS"])
    sid = _job(job_id).twilio_sid
    finished: list[object] = []
    # The worker's redelivered last attempt passes verification between the sweep's read
    # and the sweep taking the job's lock.
    with after_the_sweep_reads_stale_jobs(lambda: finished.append(in_another_session(
            postgres, lambda: saga.advance(job_id, verifier=passes)))) as fired:
        outcome = sweep_stale_jobs()
    assert fired and finished == [JobState.COMPLETED]
    assert [entry["event"] for entry in sandbox.ledger()] == ["purchase"]  # never released
    assert sid in {number["sid"] for number in sandbox.owned_numbers()}
    assert _number(sid).status == "active"
    job = _job(job_id)
    assert job.state == JobState.COMPLETED and job.error_code is None
    client = db.session.get(Client, job.client_id)
    assert client.twilio_number_sid == sid and client.rachel_enabled
    assert outcome == {"requeued": 0, "failed": 0}


def test_sweep_does_not_resend_a_job_that_made_progress_after_it_was_read(postgres, sandbox,
                                                                         sent_tasks):
    job_id = job_waiting_for_verification()
    make_stale(job_id)

    def worker_retries_verification() -> object:
        try:
            return saga.advance(job_id, verifier=not_yet)
        except RetryLater as retry:
            return retry

    with after_the_sweep_reads_stale_jobs(
            lambda: in_another_session(postgres, worker_retries_verification)) as fired:
        outcome = sweep_stale_jobs()
    assert fired
    assert sent_tasks == []
    assert outcome == {"requeued": 0, "failed": 0}
    job = _job(job_id)
    assert job.state == JobState.VERIFYING and job.next_attempt_at is not None


def test_sweep_does_not_resend_a_job_while_a_worker_holds_its_lock(postgres, sandbox,
                                                                   sent_tasks):
    job_id = job_waiting_for_verification()
    make_stale(job_id)
    with job_lock(job_id) as held:  # a worker is running the job, slowly
        assert held
        assert sweep_stale_jobs() == {"requeued": 0, "failed": 0}
    assert sent_tasks == []
    assert _job(job_id).state == JobState.VERIFYING


def test_fail_job_refuses_a_job_that_completed_since_it_was_read(postgres, sandbox):
    job_id = job_waiting_for_verification()
    stale_copy = db.session.get(ProvisioningJob, job_id)
    sid = stale_copy.twilio_sid
    assert stale_copy.state == JobState.VERIFYING
    assert in_another_session(postgres, lambda: saga.advance(job_id, verifier=passes)) \
        == JobState.COMPLETED
    failed = fail_job(stale_copy, "stale", "stuck in verifying")
    assert [entry["event"] for entry in sandbox.ledger()] == ["purchase"]  # never released
    assert _number(sid).status == "active"
    job = _job(job_id)
    assert job.state == JobState.COMPLETED and job.error_code is None
    assert failed is False
