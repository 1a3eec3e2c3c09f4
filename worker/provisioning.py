"""Provisioning tasks: thin wrappers that load a job by id and run one saga step."""
from __future__ import annotations

from celery import shared_task

from ringly.provisioning import lifecycle, reconcile, saga, services
from ringly.provisioning.exceptions import RetryLater


@shared_task(name="ringly.provisioning.run_job", bind=True, acks_late=True,
             reject_on_worker_lost=True, max_retries=None)
def run_job(self, job_id: str) -> str:
    """Advance the job from its last recovery point; the job row counts attempts and caps them."""
    try:
        return saga.advance(job_id)
    except RetryLater as retry:
        raise self.retry(countdown=retry.delay) from None


@shared_task(name="ringly.provisioning.sweep_stale_jobs", acks_late=True)
def sweep_stale_jobs() -> dict:
    return services.sweep_stale_jobs()


@shared_task(name="ringly.provisioning.reconcile_numbers", acks_late=True)
def reconcile_numbers() -> dict:
    return reconcile.reconcile_numbers()


@shared_task(name="ringly.provisioning.expire_idempotency_keys", acks_late=True)
def expire_idempotency_keys() -> int:
    return services.expire_idempotency_keys()


@shared_task(name="ringly.provisioning.release_quarantined", acks_late=True)
def release_quarantined() -> int:
    return lifecycle.release_due_quarantined()
