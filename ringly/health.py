"""Liveness (/healthz) and readiness (/readyz: database and broker reachable)."""
from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, jsonify

from ringly.db import db

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


def check_database() -> None:
    db.session.execute(sa.text("SELECT 1"))
    db.session.rollback()


def check_broker() -> None:
    celery_app = current_app.extensions["celery"]
    with celery_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)


CHECKS: dict[str, Callable[[], None]] = {"database": check_database, "broker": check_broker}


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
