"""Liveness (/healthz) and readiness (/readyz: database, broker, and a worker's heartbeat)."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy.orm import Mapped, mapped_column

from ringly.db import UTCDateTime, db, utcnow

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


class WorkerHeartbeat(db.Model):
    """The last time each running Celery worker said it is alive (one row per worker)."""

    __tablename__ = "worker_heartbeats"

    hostname: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime())


def record_heartbeat(hostname: str) -> None:
    """Called by each worker every WORKER_HEARTBEAT_INTERVAL seconds while it runs."""
    beat = db.session.get(WorkerHeartbeat, hostname)
    if beat is None:
        db.session.add(WorkerHeartbeat(hostname=hostname, beat_at=utcnow()))
    else:
        beat.beat_at = utcnow()
    db.session.commit()


def forget_heartbeat(hostname: str) -> None:
    """A worker that stops says so, so readiness fails at once rather than after the window."""
    db.session.execute(sa.delete(WorkerHeartbeat).where(WorkerHeartbeat.hostname == hostname))
    db.session.commit()


def check_database() -> None:
    db.session.execute(sa.text("SELECT 1"))
    db.session.rollback()


def check_broker() -> None:
    celery_app = current_app.extensions["celery"]
    with celery_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)


def check_worker() -> None:
    window = timedelta(seconds=current_app.config["WORKER_HEARTBEAT_WINDOW"])
    latest = db.session.scalar(sa.select(sa.func.max(WorkerHeartbeat.beat_at)))
    db.session.rollback()
    if latest is None:
        raise LookupError("no worker has ever sent a heartbeat (is `celery -A worker worker` up?)")
    if latest < utcnow() - window:
        raise TimeoutError(f"the last worker heartbeat is from {latest.isoformat()}, older than "
                           f"{window.total_seconds():.0f} s")


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database, "broker": check_broker, "worker": check_worker,
}


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    checks: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
            checks[name] = "ok"
        except Exception as exc:  # any failure means not ready
            # /readyz is public: what failed and why (hosts, ports, driver messages) is for
            # the operator's log, never for whoever asks.
            log.warning("readiness check %s failing: %s: %s", name, type(exc).__name__, exc)
            checks[name] = "failing"
    ready = all(result == "ok" for result in checks.values())
    return jsonify(status="ok" if ready else "failing", checks=checks), 200 if ready else 503


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
