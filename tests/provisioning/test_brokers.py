"""The provisioning end-to-end path on each broker Ringly supports: Redis and RabbitMQ, each with
a real worker process on its own queue, PostgreSQL and the sandbox over HTTP."""
from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from kombu import Connection

from ringly import create_app
from ringly.admin.scopes import SCOPES
from ringly.admin.services import create_api_key
from ringly.db import db
from ringly.provisioning.candidates import redis_url
from ringly.queue import (
    MAX_RETRY_DELAY,
    RABBITMQ_CONSUMER_TIMEOUT,
    broker_transport_options,
    shared_redis_url,
)
from tests.support.databases import backend
from tests.support.worker import WorkerProcess

pytestmark = pytest.mark.e2e

RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
BODY = {"business_name": "Bella Salon", "email": "owner@bella.example", "areaCode": "415"}


def _require_rabbitmq() -> None:
    parts = urlsplit(RABBITMQ_URL)
    try:
        socket.create_connection((parts.hostname, parts.port or 5672), timeout=2).close()
    except OSError:
        pytest.fail(f"RabbitMQ is not running at {parts.hostname}:{parts.port or 5672}: start it "
                    "with `rabbitmq-server -detached` (bash .ci/run does)")


@pytest.fixture(scope="module", params=["redis", "rabbitmq"])
def broker_env(request, service_env, broker_url) -> Iterator[dict[str, str]]:
    """The session's settings with this broker and a queue of its own."""
    if backend() == "sqlite":
        pytest.skip("the embedded default's broker is SQLite; this runs on the real brokers")
    queue = f"ringly-{request.param}-{uuid.uuid4().hex[:8]}"
    env = {**service_env, "CELERY_QUEUE": queue}
    if request.param == "rabbitmq":
        _require_rabbitmq()
        # Ringly's own Redis keys (shared search results, rate limits, the breaker) go to Redis.
        env.update(CELERY_BROKER_URL=RABBITMQ_URL, REDIS_URL=broker_url)
    yield env
    if request.param == "rabbitmq":
        with Connection(RABBITMQ_URL) as connection:
            connection.default_channel.queue_delete(queue)


@pytest.fixture(scope="module")
def broker_app(app, broker_env, tmp_path_factory) -> Iterator[Flask]:
    """A web app on the session's database (migrated by `app`) sending tasks to this broker."""
    web = create_app({"ENVIRON": broker_env,
                      "INSTANCE_PATH": str(tmp_path_factory.mktemp("broker-web"))})
    yield web
    with web.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def broker_worker(broker_env, tmp_path_factory) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(broker_env, tmp_path_factory.mktemp("broker-worker") / "worker.log",
                           concurrency=2)
    worker.start()
    yield worker
    worker.stop()


def _headers(app: Flask) -> dict[str, str]:
    with app.app_context():
        _, raw_key = create_api_key(f"brokers-{uuid.uuid4().hex[:6]}", SCOPES)
        db.session.remove()
    return {"Authorization": f"Bearer {raw_key}", "Prefer": "wait=30"}


def test_the_app_talks_to_the_broker_it_was_given(broker_app, broker_env):
    celery = broker_app.extensions["celery"]
    expected = "amqp" if broker_env["CELERY_BROKER_URL"].startswith("amqp") else "redis"
    with celery.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=5)
        assert connection.transport.driver_type == expected
    with broker_app.app_context():
        # Shared search results use Redis whichever the broker is (REDIS_URL beside RabbitMQ).
        assert redis_url() == shared_redis_url(broker_app.config) is not None


def test_provisioning_completes_through_the_broker(broker_app, broker_worker, sandbox):
    http = broker_app.test_client()
    response = http.post("/api/clients/provision", json=BODY, headers=_headers(broker_app))
    assert response.status_code == 200, (response.get_json(), broker_worker.log_tail())
    body = response.get_json()
    assert body["success"] is True, body
    assert body["number_details"]["phoneNumber"].startswith("+1415")
    job = http.get(f"/api/provisioning-jobs/{body['job_id']}",
                   headers=_headers(broker_app)).get_json()
    assert job["status"] == "completed" and job["attempts"] == 1
    assert len([e for e in sandbox.ledger() if e["event"] == "purchase"]) == 1


def test_retries_wait_out_their_countdown_in_the_broker_until_the_job_completes(
        broker_app, broker_worker, sandbox):
    # Every other search and purchase fails at first: the job is retried with a countdown
    # (an ETA message the worker holds unacknowledged), on either broker.
    sandbox.set_faults(rate_503=0.5, retry_after_s=0.2, seed=3, only=["search", "purchase"])
    http = broker_app.test_client()
    response = http.post("/api/clients/provision", json={**BODY, "tollFree": True},
                         headers=_headers(broker_app))
    assert response.status_code == 200, (response.get_json(), broker_worker.log_tail())
    body = response.get_json()
    assert body["success"] is True, body
    job = http.get(f"/api/provisioning-jobs/{body['job_id']}",
                   headers=_headers(broker_app)).get_json()
    assert job["attempts"] > 1, job
    assert len([e for e in sandbox.ledger() if e["event"] == "purchase"]) == 1


def test_a_retried_task_is_acknowledged_long_before_rabbitmqs_consumer_timeout(app):
    # A countdown is spent unacknowledged, then the task runs up to its hard limit before its
    # late ack; RabbitMQ closes the channel of a delivery unacknowledged for consumer_timeout.
    time_limit = app.extensions["celery"].conf.task_time_limit
    assert MAX_RETRY_DELAY * 1.2 + time_limit < RABBITMQ_CONSUMER_TIMEOUT


def test_each_broker_gets_only_its_own_transport_options():
    assert broker_transport_options("redis://r:6379/0") == {"visibility_timeout": 600}
    assert broker_transport_options("amqp://guest:guest@rabbit//") == {"confirm_publish": True}
    assert broker_transport_options("sqla+sqlite:///instance/celery-broker.db") == {}
