"""A task that proves a worker is consuming its queue, and the heartbeat /readyz looks for."""
from __future__ import annotations

import logging
import threading

from celery import current_app as current_celery
from celery import shared_task
from celery.signals import worker_process_init, worker_ready, worker_shutdown
from flask import Flask

from ringly import health, tasks
from ringly.db import db

log = logging.getLogger(__name__)
_stop = threading.Event()


@shared_task(name=tasks.HEALTH_PING)
def ping() -> str:
    return "pong"


def _beat(flask_app: Flask, hostname: str) -> None:
    interval = flask_app.config["WORKER_HEARTBEAT_INTERVAL"]
    while not _stop.is_set():
        try:
            with flask_app.app_context():
                health.record_heartbeat(hostname)
        except Exception:
            # A database hiccup must not kill the worker; readiness shows the missing beats.
            log.exception("could not record this worker's heartbeat")
        _stop.wait(interval)


@worker_ready.connect
def start_heartbeat(sender, **_kwargs) -> None:  # sender: the worker's consumer
    _stop.clear()
    threading.Thread(target=_beat, args=(sender.app.flask_app, sender.hostname),
                     name="heartbeat", daemon=True).start()


@worker_process_init.connect
def forget_inherited_connections(**_kwargs) -> None:
    # A pool process forked after the heartbeat thread used the database inherits the parent's
    # pooled connections; sharing a socket between two processes corrupts both sessions.
    with current_celery.flask_app.app_context():
        db.engine.dispose(close=False)


@worker_shutdown.connect
def stop_heartbeat(sender, **_kwargs) -> None:  # sender: the worker
    _stop.set()
    try:
        with sender.app.flask_app.app_context():
            health.forget_heartbeat(sender.hostname)
    except Exception:
        log.exception("could not clear this worker's heartbeat")
