"""Migration 0006 changes no client's zone: it records which zones were chosen, and finishes the
verification requests recorded as ringing calls."""
from __future__ import annotations

import json

import flask_migrate
import pytest
import sqlalchemy as sa

from ringly import create_app
from ringly.db import db
from tests.support.databases import fresh_postgres_database, fresh_sqlite_database

NOW = "2026-11-30 12:00:00+00:00"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        with fresh_sqlite_database(tmp_path) as url:
            yield url
    else:
        with fresh_postgres_database("ringly_migration_0006") as url:
            yield url


def _insert(connection, table: str, **values) -> None:
    names = ", ".join(values)
    params = ", ".join(f":{name}" for name in values)
    connection.execute(sa.text(f"INSERT INTO {table} ({names}) VALUES ({params})"), values)


def _client(connection, client_id: int, zone: str) -> None:
    _insert(connection, "clients", id=client_id, business_name=f"Client {client_id}",
            email="o@example.com", timezone=zone, business_hours="{}", created_at=NOW,
            updated_at=NOW)


def _call(connection, sid: str, caller: str, status: str) -> None:
    _insert(connection, "calls", call_sid=sid, client_id=1, from_number=caller,
            direction="inbound", status=status, state="{}", created_at=NOW, updated_at=NOW)


def test_existing_zones_stay_and_old_verification_calls_are_finished(database_url, tmp_path):
    app = create_app({"ENVIRON": {}, "INSTANCE_PATH": str(tmp_path),
                      "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        flask_migrate.upgrade(revision="0005")
        with db.engine.begin() as connection:
            _client(connection, 1, "America/New_York")  # nobody chose it: the old default
            _client(connection, 2, "America/Chicago")  # someone chose it
            _client(connection, 3, "America/New_York")  # asked for in the provision request
            _client(connection, 4, "America/New_York")  # set by a PATCH
            _insert(connection, "provisioning_jobs", id="job-3", client_id=3, state="completed",
                    tag="t3", request=json.dumps({"timezone": "America/New_York"}),
                    created_at=NOW, updated_at=NOW)
            _insert(connection, "provisioning_jobs", id="job-1", client_id=1, state="completed",
                    tag="t1", request=json.dumps({"areaCode": "312"}), created_at=NOW,
                    updated_at=NOW)
            _insert(connection, "audit_events", kind="client.updated", message="updated",
                    actor="cli", client_id=4, created_at=NOW,
                    data=json.dumps({"before": {"timezone": "America/Denver"},
                                     "after": {"timezone": "America/New_York"}}))
            _call(connection, "CA" + "1" * 32, "+15005550006", "ringing")  # verification
            _call(connection, "CA" + "2" * 32, "+13125550142", "ringing")  # a caller, live
        flask_migrate.upgrade(revision="0006")
        with db.engine.connect() as connection:
            clients = dict(connection.execute(sa.text(
                "SELECT id, timezone || ' ' || timezone_source FROM clients")).all())
            calls = {sid: (purpose, status, ended is not None) for sid, purpose, status, ended
                     in connection.execute(sa.text(
                         "SELECT call_sid, purpose, status, ended_at FROM calls"))}
        assert clients == {1: "America/New_York default", 2: "America/Chicago explicit",
                           3: "America/New_York explicit", 4: "America/New_York explicit"}
        assert calls == {"CA" + "1" * 32: ("verification", "completed", True),
                         "CA" + "2" * 32: ("caller", "ringing", False)}
        flask_migrate.downgrade(revision="0005")
        columns = {column["name"] for column in sa.inspect(db.engine).get_columns("clients")}
        assert "timezone_source" not in columns
        db.engine.dispose()
