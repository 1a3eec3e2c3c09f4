"""Every Celery task name Ringly sends or schedules, in one place.

Work is queued by name (`ringly.queue.enqueue_after_commit`), so a package never imports the
task that does it; `worker/` registers a task under each of these names, and a test fails when
a name sent here (or by beat) is not registered.
"""
from __future__ import annotations

HEALTH_PING = "ringly.health.ping"

RUN_PROVISIONING_JOB = "ringly.provisioning.run_job"
SWEEP_STALE_JOBS = "ringly.provisioning.sweep_stale_jobs"
RECONCILE_NUMBERS = "ringly.provisioning.reconcile_numbers"
EXPIRE_IDEMPOTENCY_KEYS = "ringly.provisioning.expire_idempotency_keys"
RELEASE_QUARANTINED = "ringly.provisioning.release_quarantined"

SEND_MESSAGE = "ringly.messaging.send_message"
SWEEP_QUEUED_MESSAGES = "ringly.messaging.sweep_queued_messages"

RENDER_LINE = "ringly.voice.render_line"
RENDER_CLIENT_PROMPTS = "ringly.voice.render_client_prompts"
TRIM_AUDIO_CACHE = "ringly.voice.trim_audio_cache"

DELIVER_EVENTS = "ringly.events.deliver"
SWEEP_EVENT_DELIVERIES = "ringly.events.sweep_deliveries"
EXPIRE_EVENTS = "ringly.events.expire"

EXPIRE_ADMIN_SESSIONS = "ringly.admin.expire_sessions"

ALL = frozenset(value for name, value in dict(globals()).items()
                if name.isupper() and isinstance(value, str))
