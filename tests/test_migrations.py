"""Migrations upgrade from empty, match the models exactly, and downgrade to base."""
from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ringly import create_app
from ringly.db import db
from tests.support.databases import fresh_postgres_database, fresh_sqlite_database


def _autogenerate_diff(app) -> list:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        return compare_metadata(context, db.metadata)


def _tables(app) -> set[str]:
    with app.app_context():
        return set(sa.inspect(db.engine).get_table_names())


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        with fresh_sqlite_database(tmp_path) as url:
            yield url
    else:
        with fresh_postgres_database("ringly_migrations") as url:
            yield url


def test_upgrade_check_downgrade_round_trip(empty_database_url, tmp_path):
    app = create_app({
        "ENVIRON": {}, "INSTANCE_PATH": str(tmp_path),
        "SQLALCHEMY_DATABASE_URI": empty_database_url,
    })
    with app.app_context():
        flask_migrate.upgrade()
    assert {"clients", "provisioning_jobs", "phone_numbers", "appointments", "calls",
            "messages", "api_keys", "audit_events"} <= _tables(app)
    assert _autogenerate_diff(app) == []

    with app.app_context():
        flask_migrate.downgrade(revision="base")
    assert _tables(app) <= {"alembic_version"}

    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    assert "clients" in _tables(app)


def test_migrations_have_a_single_head(tmp_path):
    from alembic.script import ScriptDirectory

    app = create_app({"ENVIRON": {}, "INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        assert len(ScriptDirectory.from_config(config).get_heads()) == 1
