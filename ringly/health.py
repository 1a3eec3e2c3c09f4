"""Liveness (/healthz) and readiness (/readyz: database and broker reachable)."""
from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, jsonify

from ringly.db import db

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
    results: dict[str, dict[str, object]] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
            results[name] = {"ok": True}
        except Exception as exc:  # any failure means not ready; say which and why
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    ready = all(result["ok"] for result in results.values())
    return jsonify(status="ready" if ready else "unavailable", checks=results), (
        200 if ready else 503
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
