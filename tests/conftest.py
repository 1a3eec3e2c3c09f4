"""Fixtures: a real database (PostgreSQL, or SQLite for the smoke run), the sandbox, the app."""
from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask

from ringly import create_app
from ringly.admin.scopes import SCOPES
from ringly.admin.services import create_api_key
from ringly.db import db
from tests.support.databases import backend, fresh_postgres_database, fresh_sqlite_database
from tests.support.tasks import record_sent_tasks
from tests.support.worker import WorkerProcess
from tests.support.wsgi_server import LiveServer

pytest_plugins = ["tests.sandbox_fixtures"]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if backend() == "sqlite":
        with fresh_sqlite_database(tmp_path_factory.mktemp("db")) as url:
            yield url
    else:
        with fresh_postgres_database() as url:
            yield url


@pytest.fixture(scope="session")
def broker_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if backend() == "sqlite":
        return f"sqla+sqlite:///{tmp_path_factory.mktemp('broker') / 'broker.db'}"
    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    """The app over real HTTP: Twilio-style webhooks and the call simulator reach it here."""
    server = LiveServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def service_env(
    database_url: str, broker_url: str, sandbox_server: Any, live_server: LiveServer
) -> dict[str, str]:
    """The environment a Ringly process (web, worker) of this test session runs with."""
    return {
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        # A queue of its own, so parallel test sessions never take each other's tasks.
        "CELERY_QUEUE": f"ringly-test-{uuid.uuid4().hex[:8]}",
        "TWILIO_ACCOUNT_SID": sandbox_server.account_sid,
        "TWILIO_AUTH_TOKEN": sandbox_server.auth_token,
        "TWILIO_API_BASE_URL": sandbox_server.url,
        "WEBHOOK_BASE_URL": live_server.url,
        "SECRET_KEY": "test-secret-key",
        # Event receivers in tests listen on 127.0.0.1 (tests/events/ turn this off to test
        # the SSRF refusals), and retry within seconds rather than minutes.
        "EVENTS_ALLOW_PRIVATE_URLS": "true",
        "EVENTS_RETRY_BASE": "0.2",
        "EVENTS_RETRY_CAP": "1.5",
    }


@pytest.fixture(scope="session")
def app(
    service_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    live_server: LiveServer,
) -> Iterator[Flask]:
    app = create_app(
        {"ENVIRON": service_env, "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance"))}
    )
    with app.app_context():
        flask_migrate.upgrade()
    live_server.serve(app)
    yield app
    with app.app_context():
        db.engine.dispose()


def _empty_all_tables(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        tables = [table.name for table in db.metadata.sorted_tables]
        # Background threads of this process (the text outbox, audio play times) and the
        # session's worker (heartbeats, deliveries) may hold a row lock on one of these tables
        # while waiting on another: TRUNCATE's locks can then deadlock with them, and PostgreSQL
        # picks one to fail. Emptying again once they have finished is what a test needs.
        for attempt in range(5):
            try:
                with db.engine.begin() as connection:
                    if connection.dialect.name == "postgresql":
                        names = ", ".join(f'"{name}"' for name in tables)
                        connection.execute(
                            sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
                    else:
                        for name in reversed(tables):
                            connection.execute(sa.text(f'DELETE FROM "{name}"'))
                return
            except sa.exc.OperationalError as error:
                if attempt == 4 or "deadlock" not in str(error).lower():
                    raise
                time.sleep(0.2 * (attempt + 1))


@pytest.fixture(autouse=True)
def _fresh_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests that use the app start from empty tables (committed work included)."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    _empty_all_tables(app)
    if "celery_worker" not in request.fixturenames:
        # The session's worker (alive once any end-to-end test started it) must not run this
        # test's tasks behind its back: they are recorded instead (see `sent_tasks`).
        request.getfixturevalue("sent_tasks")
    yield
    with app.app_context():
        db.session.remove()


@pytest.fixture
def sent_tasks(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple]]:
    """Tasks the app sends during this test, recorded instead of delivered to a worker."""
    return record_sent_tasks(app, monkeypatch)


@pytest.fixture
def app_context(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def api_key(app: Flask) -> str:
    with app.app_context():
        # Every scope: tests of what a scope forbids make their own keys (tests/admin/).
        _, raw_key = create_api_key(f"test-{uuid.uuid4().hex[:6]}", SCOPES)
        db.session.remove()
    return raw_key


@pytest.fixture
def api_headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


@pytest.fixture(scope="session")
def celery_worker(app: Flask, service_env: dict[str, str],
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    """A real worker process on this session's queue (started once, shared by e2e tests)."""
    worker = WorkerProcess(service_env, tmp_path_factory.mktemp("worker") / "worker.log")
    worker.start()
    yield worker
    worker.stop()
