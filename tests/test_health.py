"""Liveness and readiness."""
from __future__ import annotations

import pytest

from ringly import create_app


@pytest.mark.smoke
def test_healthz_answers_while_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


@pytest.mark.smoke
def test_readyz_reports_database_and_broker(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "ready"
    assert response.json["checks"]["database"]["ok"] is True
    assert response.json["checks"]["broker"]["ok"] is True


def test_readyz_is_503_and_names_the_failing_check(tmp_path, service_env):
    env = dict(service_env, CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    app = create_app({"ENVIRON": env, "INSTANCE_PATH": str(tmp_path)})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["broker"]["ok"] is False
    assert response.json["checks"]["database"]["ok"] is True
