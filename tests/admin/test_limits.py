"""Rate limits per API key: a key that floods gets 429 problems with the headers that say when
to come back; other keys, other groups, webhooks and health checks are untouched."""
from __future__ import annotations

import pytest

from ringly import create_app
from ringly.admin.limits import storage_uri
from ringly.admin.scopes import SCOPES
from ringly.admin.services import create_api_key
from ringly.config import ConfigurationError
from ringly.db import db
from tests.support.databases import backend

BODY = {"business_name": "Bella Salon", "areaCode": "415"}


def _key(app, name: str) -> dict[str, str]:
    with app.app_context():
        _, raw_key = create_api_key(name, SCOPES)
        db.session.remove()
    return {"Authorization": f"Bearer {raw_key}"}


def _provision(client, headers: dict[str, str], number: int):
    return client.post("/api/clients/provision", headers=headers,
                       json={**BODY, "email": f"owner{number}@bella.example"})


def test_provisioning_past_the_limit_is_a_429_problem_with_retry_after(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "RATE_LIMIT_PROVISION", "2/minute")
    headers = _key(app, "flood")
    answers = [_provision(client, headers, number) for number in range(3)]
    assert [answer.status_code for answer in answers] == [202, 202, 429]
    assert [answer.headers["RateLimit-Remaining"] for answer in answers] == ["1", "0", "0"]
    refused = answers[-1]
    assert refused.mimetype == "application/problem+json"
    problem = refused.get_json()
    assert problem["type"] == "urn:ringly:problem:rate-limited"
    assert problem["status"] == 429 and problem["rate_limit"] == "provision"
    assert "2 per 1 minute" in problem["detail"]
    assert refused.headers["RateLimit-Limit"] == "2"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert 1 <= int(refused.headers["RateLimit-Reset"]) <= 60


def test_the_limit_is_per_key_and_per_group(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "RATE_LIMIT_PROVISION", "1/minute")
    flooding, other = _key(app, "flooding"), _key(app, "other")
    assert _provision(client, flooding, 1).status_code == 202
    assert _provision(client, flooding, 2).status_code == 429
    # Another key provisions; the flooding key still reads.
    assert _provision(client, other, 3).status_code == 202
    assert client.get("/api/clients", headers=flooding).status_code == 200


def test_reads_and_searches_have_limits_of_their_own(app, client, monkeypatch, prov):
    monkeypatch.setitem(app.config, "RATE_LIMIT_READ", "3/minute")
    monkeypatch.setitem(app.config, "RATE_LIMIT_SEARCH", "1/minute")
    headers = _key(app, "reader")
    reads = [client.get(path, headers=headers).status_code
             for path in ("/api/me", "/api/clients", "/api/clients/1", "/api/clients")]
    assert reads == [200, 200, 404, 429]  # one counter for every read of the key
    search = {"areaCode": "415", "limit": 1}
    assert client.post("/api/clients/search-numbers", headers=headers,
                       json=search).status_code == 200
    assert client.post("/api/clients/search-numbers", headers=headers,
                       json=search).status_code == 429


def test_answers_within_the_limit_carry_the_ratelimit_headers(client, api_headers):
    response = client.get("/api/me", headers=api_headers)
    assert response.status_code == 200
    assert response.headers["RateLimit-Limit"] == "600"
    assert response.headers["RateLimit-Remaining"] == "599"
    assert 1 <= int(response.headers["RateLimit-Reset"]) <= 60
    assert "Retry-After" not in response.headers


def test_webhooks_and_health_checks_are_not_limited_by_key(app, client, monkeypatch):
    for group in ("PROVISION", "SEARCH", "READ", "WRITE"):
        monkeypatch.setitem(app.config, f"RATE_LIMIT_{group}", "1/hour")
    for _ in range(3):
        health = client.get("/healthz")
        unsigned = client.post("/webhook/twilio/status", data={"CallSid": "CA1"})
        assert health.status_code == 200 and unsigned.status_code == 403
        assert "RateLimit-Limit" not in health.headers
        assert "RateLimit-Limit" not in unsigned.headers


@pytest.mark.skipif(backend() == "sqlite", reason="the embedded default counts in memory")
def test_counts_are_shared_by_every_process_through_redis(app, client, service_env, tmp_path,
                                                          monkeypatch):
    other = create_app({"ENVIRON": {**service_env, "RATE_LIMIT_PROVISION": "1/minute"},
                        "INSTANCE_PATH": str(tmp_path)})
    assert storage_uri(other.config).startswith("redis://")
    monkeypatch.setitem(app.config, "RATE_LIMIT_PROVISION", "1/minute")
    headers = _key(app, "two-processes")
    assert _provision(client, headers, 1).status_code == 202
    assert _provision(other.test_client(), headers, 2).status_code == 429


def test_an_unreachable_redis_does_not_take_the_api_down(app, service_env, tmp_path):
    other = create_app({"ENVIRON": {**service_env, "REDIS_URL": "redis://127.0.0.1:1/0"},
                        "INSTANCE_PATH": str(tmp_path)})
    assert storage_uri(other.config) == "redis://127.0.0.1:1/0"
    headers = _key(app, "redis-down")
    for _ in range(2):
        assert other.test_client().get("/api/me", headers=headers).status_code == 200


def test_storage_is_redis_when_there_is_one_and_memory_on_the_embedded_default():
    assert storage_uri({"REDIS_URL": "redis://cache:6379/2",
                        "CELERY_BROKER_URL": "redis://broker:6379/0"}) == "redis://cache:6379/2"
    assert storage_uri({"CELERY_BROKER_URL": "rediss://broker:6380/0"}) \
        == "rediss://broker:6380/0"
    assert storage_uri({"CELERY_BROKER_URL": "sqla+sqlite:///instance/b.db"}) == "memory://"


def test_a_limit_setting_that_is_not_a_limit_stops_start_up(service_env, tmp_path):
    with pytest.raises(ConfigurationError, match="RATE_LIMIT_SEARCH"):
        create_app({"ENVIRON": {**service_env, "RATE_LIMIT_SEARCH": "lots"},
                    "INSTANCE_PATH": str(tmp_path)})
