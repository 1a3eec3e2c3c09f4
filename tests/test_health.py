"""Liveness and readiness."""
from __future__ import annotations

import logging
import time
import uuid

import flask_migrate
import pytest
import sqlalchemy as sa

from ringly import create_app
from ringly.db import db
from ringly.health import WorkerHeartbeat, record_heartbeat
from tests.support.databases import backend, fresh_postgres_database, fresh_sqlite_database
from tests.support.worker import WorkerProcess


@pytest.mark.smoke
def test_healthz_answers_while_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def _worker_heartbeats(app, *hostnames: str) -> None:
    """Stand in for running workers: exactly these heartbeats, recorded now."""
    with app.app_context():
        db.session.execute(sa.delete(WorkerHeartbeat))
        db.session.commit()
        for hostname in hostnames:
            record_heartbeat(hostname)


@pytest.mark.smoke
def test_readyz_names_each_check_and_says_ok(app, client):
    _worker_heartbeats(app, "celery@worker-1")
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json == {"status": "ok", "checks": {"database": "ok", "broker": "ok",
                                                        "worker": "ok"}}


@pytest.mark.smoke
def test_readyz_fails_naming_the_worker_check_when_no_worker_beats(app, client, caplog):
    _worker_heartbeats(app)
    with caplog.at_level(logging.WARNING, logger="ringly.health"):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json == {"status": "failing", "checks": {"database": "ok", "broker": "ok",
                                                             "worker": "failing"}}
    assert "no worker has ever sent a heartbeat" in caplog.text


@pytest.fixture
def lone_database(tmp_path):
    """A database of its own: the session's shared worker beats into the shared one."""
    if backend() == "sqlite":
        with fresh_sqlite_database(tmp_path) as url:
            yield url
    else:
        with fresh_postgres_database() as url:
            yield url


@pytest.mark.e2e
def test_readyz_follows_a_real_worker_starting_stopping_and_dying(
        service_env, tmp_path, lone_database):
    env = dict(service_env, DATABASE_URL=lone_database,
               CELERY_QUEUE=f"ringly-health-{uuid.uuid4().hex[:8]}",
               WORKER_HEARTBEAT_INTERVAL="0.5", WORKER_HEARTBEAT_WINDOW="3")
    app = create_app({"ENVIRON": env, "INSTANCE_PATH": str(tmp_path / "instance")})
    with app.app_context():
        flask_migrate.upgrade()
    _worker_heartbeats(app)
    client = app.test_client()

    def worker_check(wait_for: str, within: float = 20.0) -> str:
        deadline = time.monotonic() + within
        while True:
            result = client.get("/readyz").json["checks"]["worker"]
            if result == wait_for or time.monotonic() > deadline:
                return result
            time.sleep(0.2)

    assert worker_check("ok", within=0) == "failing"
    worker = WorkerProcess(env, tmp_path / "worker.log", concurrency=1).start()
    try:
        assert worker_check("ok") == "ok", worker.log_tail()
        worker.stop()  # a clean stop clears its heartbeat: failing at once
        assert worker_check("failing", within=0) == "failing"

        worker.start()
        assert worker_check("ok") == "ok", worker.log_tail()
        worker.kill()  # a dead worker says nothing: failing once the window has passed
        assert worker_check("failing") == "failing"
    finally:
        worker.stop()
        with app.app_context():
            db.engine.dispose()


def test_readyz_is_503_naming_the_failing_check_with_details_in_the_log_only(
        tmp_path, service_env, caplog):
    env = dict(service_env, CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    app = create_app({"ENVIRON": env, "INSTANCE_PATH": str(tmp_path)})
    with caplog.at_level(logging.WARNING, logger="ringly.health"):
        response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "failing"
    assert response.json["checks"]["database"] == "ok"
    assert response.json["checks"]["broker"] == "failing"
    # Where the broker is and what the driver said is for the operator, not for anyone asking.
    body = response.get_data(as_text=True)
    assert "127.0.0.1" not in body and "Error" not in body
    assert "broker" in caplog.text and "127.0.0.1:1" in caplog.text
