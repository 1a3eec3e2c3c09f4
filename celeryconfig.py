"""Celery settings in Celery's own names; the broker URL comes from the app's configuration."""
from datetime import timedelta

from ringly import tasks

# A task is acknowledged only after it ran, and re-queued if its worker dies mid-way,
# so every task must be idempotent (they are: each one re-reads its job's recovery point).
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
task_ignore_result = True
task_default_queue = "ringly"
task_serializer = "json"
accept_content = ["json"]
timezone = "UTC"
enable_utc = True
broker_connection_retry_on_startup = True
# For Redis brokers ringly.queue adds a visibility timeout (SQLAlchemy's transport takes none).
worker_cancel_long_running_tasks_on_connection_loss = True
task_time_limit = 300
task_soft_time_limit = 240

beat_schedule = {
    "reconcile-numbers": {
        "task": tasks.RECONCILE_NUMBERS,
        "schedule": timedelta(minutes=5),
    },
    "release-quarantined-numbers": {
        "task": tasks.RELEASE_QUARANTINED,
        "schedule": timedelta(hours=1),
    },
    "expire-idempotency-keys": {
        "task": tasks.EXPIRE_IDEMPOTENCY_KEYS,
        "schedule": timedelta(hours=1),
    },
    "sweep-stale-jobs": {
        "task": tasks.SWEEP_STALE_JOBS,
        "schedule": timedelta(minutes=1),
    },
    # Rendered audio not played for AUDIO_CACHE_RETENTION_DAYS, or over AUDIO_CACHE_MAX_MB.
    "trim-audio-cache": {
        "task": tasks.TRIM_AUDIO_CACHE,
        "schedule": timedelta(hours=1),
    },
    # Texts committed while the broker was down (or whose retry was lost) are sent from here.
    "sweep-queued-messages": {
        "task": tasks.SWEEP_QUEUED_MESSAGES,
        "schedule": timedelta(seconds=30),
    },
    # Event deliveries whose task was lost, or whose retry is further off than a countdown may
    # wait (ringly.queue.MAX_RETRY_DELAY), are sent from here when due.
    "sweep-event-deliveries": {
        "task": tasks.SWEEP_EVENT_DELIVERIES,
        "schedule": timedelta(seconds=30),
    },
    "expire-events": {
        "task": tasks.EXPIRE_EVENTS,
        "schedule": timedelta(hours=1),
    },
    # Console sign-ins that have ended (ADMIN_SESSION_HOURS): refused anyway, deleted here.
    "expire-admin-sessions": {
        "task": tasks.EXPIRE_ADMIN_SESSIONS,
        "schedule": timedelta(hours=1),
    },
}
