"""Liveness and readiness."""
from __future__ import annotations

import logging

import pytest

from ringly import create_app


@pytest.mark.smoke
def test_healthz_answers_while_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


@pytest.mark.smoke
def test_readyz_names_each_check_and_says_ok(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_readyz_is_503_naming_the_failing_check_with_details_in_the_log_only(
        tmp_path, service_env, caplog):
    env = dict(service_env, CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    app = create_app({"ENVIRON": env, "INSTANCE_PATH": str(tmp_path)})
    with caplog.at_level(logging.WARNING, logger="ringly.health"):
        response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json == {"status": "failing", "checks": {"database": "ok",
                                                             "broker": "failing"}}
    # Where the broker is and what the driver said is for the operator, not for anyone asking.
    body = response.get_data(as_text=True)
    assert "127.0.0.1" not in body and "Error" not in body
    assert "broker" in caplog.text and "127.0.0.1:1" in caplog.text
