"""Provisioning tasks: thin wrappers that load a job by id and run one saga step."""
from __future__ import annotations

from celery import shared_task

from ringly import tasks
from ringly.provisioning import lifecycle, reconcile, saga, services
from ringly.provisioning.exceptions import RetryLater


@shared_task(name=tasks.RUN_PROVISIONING_JOB, bind=True, acks_late=True,
             reject_on_worker_lost=True, max_retries=None)
def run_job(self, job_id: str) -> str:
    """Advance the job from its last recovery point; the job row counts attempts and caps them."""
    try:
        return saga.advance(job_id)
    except RetryLater as retry:
        raise self.retry(countdown=retry.delay) from None


@shared_task(name=tasks.SWEEP_STALE_JOBS, acks_late=True)
def sweep_stale_jobs() -> dict:
    return services.sweep_stale_jobs()


@shared_task(name=tasks.RECONCILE_NUMBERS, acks_late=True)
def reconcile_numbers() -> dict:
    return reconcile.reconcile_numbers()


@shared_task(name=tasks.EXPIRE_IDEMPOTENCY_KEYS, acks_late=True)
def expire_idempotency_keys() -> int:
    return services.expire_idempotency_keys()


@shared_task(name=tasks.RELEASE_QUARANTINED, acks_late=True)
def release_quarantined() -> int:
    return lifecycle.release_due_quarantined()
