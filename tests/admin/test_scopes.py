"""API key scopes: what a key may do is what it was given, and the CLI says so."""
from __future__ import annotations

import os

import flask_migrate
import pytest
import sqlalchemy as sa

from ringly import create_app
from ringly.admin.models import ApiKey, AuditEvent
from ringly.admin.scopes import SCOPES
from ringly.admin.services import create_api_key
from ringly.db import db
from scripts.run_dev import development_key
from tests.provisioning.conftest import provisioned_client
from tests.support.databases import fresh_postgres_database, fresh_sqlite_database


def _headers(raw_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw_key}"}


def test_a_default_key_cannot_release_list_the_account_or_redirect_calls(
    app, client, prov, sandbox
):
    client_id, sid = provisioned_client()
    _, raw_key = create_api_key("integration")  # read + provision, as by default
    headers = _headers(raw_key)
    attempts = [
        client.delete(f"/api/clients/{client_id}/number", headers=headers),
        client.get("/api/clients/numbers/all", headers=headers),
        client.patch(f"/api/clients/{client_id}", headers=headers,
                     json={"forwarding_number": "+19005550100"}),
        client.put(f"/api/clients/{client_id}/number/webhooks", headers=headers),
        client.get("/api/audit-events", headers=headers),
    ]
    for response in attempts:
        assert response.status_code == 403
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["type"] == "urn:ringly:problem:forbidden"
        assert response.get_json()["required_scope"] == "admin"
        assert "'admin' scope" in response.get_json()["detail"]
    db.session.remove()
    assert [number["sid"] for number in sandbox.owned_numbers()] == [sid]
    assert db.session.scalar(sa.select(ApiKey.scopes).where(ApiKey.name == "integration")) \
        == "provision read"
    # What the key was made for still works.
    assert client.get(f"/api/clients/{client_id}", headers=headers).status_code == 200
    assert client.post("/api/clients/search-numbers", headers=headers,
                       json={"areaCode": "415", "limit": 1}).status_code == 200


def test_an_admin_only_key_cannot_read_or_provision_but_sees_itself(client, app_context):
    _, raw_key = create_api_key("auditor", ["admin"])
    headers = _headers(raw_key)
    assert client.get("/api/clients", headers=headers).get_json()["required_scope"] == "read"
    provision = client.post("/api/clients/provision", headers=headers, json={})
    assert provision.status_code == 403
    assert provision.get_json()["required_scope"] == "provision"
    me = client.get("/api/me", headers=headers)
    assert me.status_code == 200
    assert me.get_json()["scopes"] == ["admin"]
    assert client.get("/api/audit-events", headers=headers).status_code == 200


def test_cli_creates_keys_with_scopes_lists_them_and_changes_them(app, client):
    runner = app.test_cli_runner()
    default = runner.invoke(args=["keys", "create", "plain"])
    ops = runner.invoke(args=["keys", "create", "ops", "--scope", "admin", "--scope", "read"])
    assert default.exit_code == 0 and ops.exit_code == 0, (default.output, ops.output)
    listed = runner.invoke(args=["keys", "list"]).output.splitlines()
    assert any("plain" in line and "provision,read" in line for line in listed), listed
    assert any("ops" in line and "admin,read" in line for line in listed), listed
    headers = _headers(default.output.strip())
    assert client.get("/api/clients/numbers/all", headers=headers).status_code == 403

    granted = runner.invoke(args=["keys", "scopes", "plain", "--scope", "read", "--scope",
                                  "provision", "--scope", "admin"])
    assert granted.exit_code == 0, granted.output
    assert granted.output.strip() == "plain: admin, provision, read"
    assert client.get("/api/audit-events", headers=headers).status_code == 200
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(
            AuditEvent.kind == "api_key.scopes_changed"))
        assert event.data == {"before": ["provision", "read"],
                              "after": ["admin", "provision", "read"]}
        assert event.actor == "cli keys scopes"


def test_cli_refuses_an_unknown_scope_and_an_unknown_key(app):
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["keys", "create", "x", "--scope", "everything"])
    assert bad.exit_code == 2 and "everything" in bad.output
    unknown = runner.invoke(args=["keys", "scopes", "nobody", "--scope", "read"])
    assert unknown.exit_code == 1 and "no API key named 'nobody'" in unknown.output
    with app.app_context():
        assert db.session.scalar(sa.select(ApiKey).where(ApiKey.name == "x")) is None


def test_the_development_key_of_make_run_has_every_scope(app, service_env, tmp_path):
    env = {**os.environ, **service_env}
    raw_key = development_key(env, tmp_path)
    assert raw_key.startswith("rk_dev_")
    with app.app_context():
        key = db.session.scalar(sa.select(ApiKey).where(ApiKey.name == "development"))
        assert key.scope_list == sorted(SCOPES)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_keys_that_exist_before_the_upgrade_get_read_and_provision(backend, tmp_path):
    databases = {"sqlite": lambda: fresh_sqlite_database(tmp_path),
                 "postgresql": lambda: fresh_postgres_database("ringly_scopes_upgrade")}
    with databases[backend]() as url:
        app = create_app({"ENVIRON": {}, "INSTANCE_PATH": str(tmp_path),
                          "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            flask_migrate.upgrade(revision="0002")
            db.session.execute(sa.text(
                "INSERT INTO api_keys (name, prefix, key_hash, created_at) "
                "VALUES ('legacy', 'rk_legacy', 'hash', CURRENT_TIMESTAMP)"))
            db.session.execute(sa.text(
                "INSERT INTO audit_events (kind, message, data, created_at) "
                "VALUES ('api_key.created', 'old', '{}', CURRENT_TIMESTAMP)"))
            db.session.commit()
            flask_migrate.upgrade(revision="0003")
            assert db.session.scalar(sa.text("SELECT scopes FROM api_keys")) == "provision read"
            assert db.session.scalar(sa.text("SELECT actor FROM audit_events")) == "unknown"
            db.session.remove()
            db.engine.dispose()
