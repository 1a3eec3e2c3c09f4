"""Celery wired to the Flask app, and queueing tasks by name only after the commit they need."""
from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from typing import Any

from celery import Celery, Task
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from ringly import logs, tasks
from ringly.db import db

log = logging.getLogger(__name__)

_PENDING = "ringly_pending_tasks"
REDIS_VISIBILITY_TIMEOUT = 600
# A retried task waits out its countdown unacknowledged (the worker holds the message), then
# runs for up to celeryconfig's task_time_limit (300 s) before its late ack: all of it must
# end inside the visibility timeout, or Redis hands the task to a second worker. So no retry
# waits longer than this, however long Twilio's Retry-After (tests/test_retry_delays.py).
MAX_RETRY_DELAY = 240.0
# RabbitMQ's own limit on the same wait (its `consumer_timeout`, 30 minutes by default): a
# delivery unacknowledged for longer closes the worker's channel and is delivered again. The
# capped countdown plus the time limit stays far inside it, so no RabbitMQ setting is needed.
RABBITMQ_CONSUMER_TIMEOUT = 1800
# A task's arguments that its log lines carry, by parameter name (ringly/logs.py).
LOGGED_ARGUMENTS = frozenset({"job_id", "message_id", "client_id", "endpoint_id"})
_logged_positions: dict[str, tuple[tuple[int, str], ...]] = {}
REDIS_SCHEMES = ("redis://", "rediss://")
AMQP_SCHEMES = ("amqp://", "amqps://", "pyamqp://")


def broker_transport_options(broker_url: str) -> dict[str, Any]:
    """What each broker needs beyond celeryconfig (late acks and prefetch 1 suit all three)."""
    if broker_url.startswith(REDIS_SCHEMES):
        # An unacknowledged task is delivered again after this long: longer than any task runs.
        return {"visibility_timeout": REDIS_VISIBILITY_TIMEOUT}
    if broker_url.startswith(AMQP_SCHEMES):
        # RabbitMQ re-delivers unacknowledged tasks when a worker's connection drops, with no
        # timeout to tune; publisher confirms make a send return only once RabbitMQ has the task,
        # so a task is never reported queued and then lost by the broker.
        return {"confirm_publish": True}
    return {}  # SQLAlchemy's transport (the embedded default) takes none


def shared_redis_url(config: Mapping[str, Any]) -> str | None:
    """The Redis that Ringly's own shared keys use (the ElevenLabs breaker; search results and
    rate limits read the same settings): `REDIS_URL`, else a Redis broker; None when there is
    neither (a RabbitMQ broker without `REDIS_URL`, or the embedded default)."""
    for url in (config.get("REDIS_URL"), config.get("CELERY_BROKER_URL")):
        if url and url.startswith((*REDIS_SCHEMES, "unix://")):
            return url
    return None


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app for this Flask app; tasks run inside its app context."""

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context(), logs.log_context(**task_log_fields(self, args, kwargs)):
                return self.run(*args, **kwargs)

    celery_app = Celery(app.import_name, task_cls=FlaskTask)
    celery_app.config_from_object("celeryconfig")
    broker_url = app.config["CELERY_BROKER_URL"]
    celery_app.conf.update(broker_url=broker_url)
    celery_app.conf.broker_transport_options = broker_transport_options(broker_url)
    celery_app.conf.update(app.config.get("CELERY", {}))
    celery_app.set_default()
    celery_app.flask_app = app  # for worker signal handlers, which run outside any request
    app.extensions["celery"] = celery_app
    return celery_app


def task_log_fields(task: Task, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """What a task's log lines carry: the task, its id, and the ids it was given by the names in
    LOGGED_ARGUMENTS (`job_id`, `message_id`...)."""
    fields = {"task": task.name, "task_id": task.request.id}
    positions = _logged_positions.get(task.name)
    if positions is None:
        parameters = list(inspect.signature(task.run).parameters)
        positions = _logged_positions[task.name] = tuple(
            (index, name) for index, name in enumerate(parameters) if name in LOGGED_ARGUMENTS)
    for index, name in positions:
        fields[name] = args[index] if index < len(args) else kwargs.get(name)
    return fields


def retry_delay(seconds: float) -> float:
    """A task's retry countdown: `seconds`, at most MAX_RETRY_DELAY (the retry asks again)."""
    return min(max(seconds, 0.0), MAX_RETRY_DELAY)


def get_celery() -> Celery:
    return current_app.extensions["celery"]


def _known(task_name: str) -> str:
    # A misspelt name would sit in the broker forever with no worker to take it.
    if task_name not in tasks.ALL:
        raise ValueError(f"{task_name!r} is not a task name listed in ringly.tasks")
    return task_name


def enqueue_after_commit(task_name: str, *args: Any, **options: Any) -> None:
    """Send a task by its stable name once the current transaction commits, never before."""
    _known(task_name)
    session = db.session()
    session.info.setdefault(_PENDING, []).append(
        (current_app.extensions["celery"], task_name, args, options)
    )


def send_now(task_name: str, *args: Any, **options: Any) -> None:
    """Send a task at once (for callers outside any transaction, such as beat sweeps)."""
    current_app.extensions["celery"].send_task(_known(task_name), args=args, **options)


@event.listens_for(Session, "after_commit")
def _send_pending_tasks(session: Session) -> None:
    pending = session.info.pop(_PENDING, [])
    for celery_app, task_name, args, options in pending:
        try:
            celery_app.send_task(task_name, args=args, **options)
        except Exception:
            # The row is committed; the stale-job sweep re-sends what never reached the broker.
            log.exception("could not queue %s%r; the sweep will retry it", task_name, args)


@event.listens_for(Session, "after_rollback")
def _drop_pending_tasks(session: Session) -> None:
    session.info.pop(_PENDING, None)
