"""API keys: required on /api, stored hashed, revocable, each use recorded."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from ringly.admin.models import ApiKey
from ringly.admin.services import create_api_key, hash_key
from ringly.db import db


@pytest.mark.smoke
def test_api_request_without_key_gets_401_problem(client):
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_key_gets_401(client):
    response = client.get("/api/me", headers={"Authorization": "Bearer rk_not-a-key"})
    assert response.status_code == 401


@pytest.mark.smoke
def test_openapi_document_and_docs_page_need_no_key(client):
    spec = client.get("/api/openapi.json")
    assert spec.status_code == 200
    assert spec.json["openapi"].startswith("3.")
    assert spec.json["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert b"/api/docs/assets/swagger-ui-bundle.js" in page.data
    asset = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert len(asset.data) > 100_000


def test_key_is_stored_hashed_and_its_use_is_recorded(app, client):
    with app.app_context():
        api_key, raw_key = create_api_key("reporting")
        stored = db.session.get(ApiKey, api_key.id)
        assert stored.key_hash == hash_key(raw_key)
        assert raw_key not in (stored.key_hash, stored.prefix)
        assert stored.last_used_at is None
    response = client.get("/api/me", headers={"Authorization": f"Bearer {raw_key}"})
    assert response.status_code == 200
    assert response.json["name"] == "reporting"
    with app.app_context():
        assert db.session.scalar(sa.select(ApiKey.last_used_at).where(ApiKey.name == "reporting"))


def test_cli_creates_and_revokes_keys(app, client):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["keys", "create", "partner"])
    assert created.exit_code == 0, created.output
    raw_key = created.output.strip()
    assert raw_key.startswith("rk_")
    headers = {"Authorization": f"Bearer {raw_key}"}
    assert client.get("/api/me", headers=headers).status_code == 200
    listed = runner.invoke(args=["keys", "list"])
    assert "partner" in listed.output and "active" in listed.output
    revoked = runner.invoke(args=["keys", "revoke", "partner"])
    assert revoked.exit_code == 0
    assert client.get("/api/me", headers=headers).status_code == 401


def test_duplicate_key_name_is_refused(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["keys", "create", "dup"]).exit_code == 0
    second = runner.invoke(args=["keys", "create", "dup"])
    assert second.exit_code == 1
    assert second.output == "Error: an API key named 'dup' already exists\n"
    unknown = runner.invoke(args=["keys", "revoke", "nobody"])
    assert unknown.exit_code == 1 and "no API key named 'nobody'" in unknown.output


@pytest.mark.smoke
def test_openapi_document_is_valid_openapi_3(client):
    from openapi_spec_validator import validate

    validate(client.get("/api/openapi.json").json)
