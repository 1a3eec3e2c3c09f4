"""The provisioning API: validation, 202 + Location, idempotency keys per API key, Prefer: wait
(bounded and capped), polling."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa

from ringly.admin.services import create_api_key
from ringly.clients.models import Client
from ringly.db import db, utcnow
from ringly.provisioning import saga
from ringly.provisioning.exceptions import RetryLater
from ringly.provisioning.models import ProvisioningJob
from ringly.provisioning.schemas import ProvisionRequestSchema
from ringly.provisioning.services import expire_idempotency_keys
from tests.provisioning.conftest import make_job

BODY = {"business_name": "Bella Salon", "email": "owner@bella.example", "areaCode": "415"}


@pytest.mark.smoke
def test_provision_answers_202_with_the_job_client_and_location(
    client, api_headers, prov, sent_tasks
):
    response = client.post("/api/clients/provision", json=BODY, headers=api_headers)
    assert response.status_code == 202
    body = response.get_json()
    job_id = body["job"]["id"]
    assert sent_tasks == [("ringly.provisioning.run_job", (job_id,))]
    assert response.headers["Location"] == f"/api/provisioning-jobs/{job_id}"
    assert body["job"]["status"] == "queued"
    assert set(body["client"]) == {"id", "business_name", "email", "ringlypro_number",
                                   "twilio_number_sid", "rachel_enabled", "active",
                                   "voice_webhook", "sms_webhook"}
    assert body["client"]["voice_webhook"].endswith("/voice/rachel/")
    polled = client.get(f"/api/provisioning-jobs/{job_id}", headers=api_headers)
    assert polled.status_code == 200
    assert polled.get_json()["status"] in ("queued", "searching", "purchasing", "configuring",
                                           "verifying", "completed", "failed")


def test_provision_rejects_bad_fields_with_problem_details(client, api_headers, prov):
    response = client.post("/api/clients/provision", headers=api_headers, json={
        "business_name": "", "email": "not-an-email", "areaCode": "41",
        "phoneNumber": "555-1234", "country": "usa", "timezone": "Mars/Base"})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert set(response.get_json()["errors"]) == {
        "business_name", "email", "areaCode", "phoneNumber", "country", "timezone"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0


def test_job_is_queued_only_after_its_transaction_commits(prov, sent_tasks):
    from ringly.provisioning.services import submit_provision

    real_commit = db.session.commit
    seen_at_commit: list[int] = []

    def observing_commit() -> None:
        seen_at_commit.append(len(sent_tasks))
        real_commit()

    db.session.commit = observing_commit
    try:
        submission = submit_provision(dict(BODY))
    finally:
        del db.session.commit
    assert seen_at_commit == [0]
    assert sent_tasks == [("ringly.provisioning.run_job", (submission.job.id,))]


def test_provision_requires_an_api_key(client, prov):
    assert client.post("/api/clients/provision", json=BODY).status_code == 401


def test_same_idempotency_key_and_body_returns_the_same_job(client, api_headers, prov):
    headers = {**api_headers, "Idempotency-Key": "order-17"}
    first = client.post("/api/clients/provision", json=BODY, headers=headers)
    again = client.post("/api/clients/provision", json=BODY, headers=headers)
    assert first.status_code == 202 and again.status_code == 202
    assert first.get_json()["job"]["id"] == again.get_json()["job"]["id"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 1


def test_same_idempotency_key_with_another_body_is_a_conflict(client, api_headers, prov):
    headers = {**api_headers, "Idempotency-Key": "order-18"}
    client.post("/api/clients/provision", json=BODY, headers=headers)
    response = client.post("/api/clients/provision", json={**BODY, "areaCode": "212"},
                           headers=headers)
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert "different request body" in response.get_json()["detail"]


@pytest.mark.parametrize("key", ["", "k" * 256, "order\x0017", "tab\tbed"])
def test_an_idempotency_key_that_is_empty_too_long_or_unprintable_is_a_422(
        client, api_headers, prov, key):
    response = client.post("/api/clients/provision", json=BODY,
                           headers={**api_headers, "Idempotency-Key": key})
    assert response.status_code == 422
    assert "Idempotency-Key" in response.get_json()["errors"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0


def test_concurrent_requests_with_one_key_create_one_job(app, live_server, api_headers, prov):
    headers = {**api_headers, "Idempotency-Key": "race-1"}
    barrier = threading.Barrier(8)
    answers: list[requests.Response] = []

    def submit() -> None:
        barrier.wait()
        answers.append(requests.post(f"{live_server.url}/api/clients/provision", json=BODY,
                                     headers=headers, timeout=30))

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {answer.status_code for answer in answers} == {202}
    assert len({answer.json()["job"]["id"] for answer in answers}) == 1
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProvisioningJob)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 1


def test_prefer_wait_above_10_seconds_is_capped_and_said_so(client, api_headers, prov):
    headers = {**api_headers, "Idempotency-Key": "wait-1"}
    first = client.post("/api/clients/provision", json=BODY, headers=headers)
    assert "Preference-Applied" not in first.headers
    job = db.session.get(ProvisioningJob, first.get_json()["job"]["id"])
    job.state, job.error_code, job.error_message = "failed", "no_numbers_available", "none left"
    job.twilio_error_code = 21452
    db.session.commit()
    # The job has ended, so the wait is over at once: 200 with the original failure shape.
    replay = client.post("/api/clients/provision", json=BODY,
                         headers={**headers, "Prefer": "wait=99"})
    assert replay.status_code == 200
    assert replay.headers["Preference-Applied"] == "wait=10"
    body = replay.get_json()
    assert body["success"] is False and body["job_id"] == job.id
    assert body["error"] == {"code": "no_numbers_available", "message": "none left",
                             "twilio_code": 21452}


def _run_job_as_the_worker_would(job_id: str) -> None:
    try:
        saga.advance(job_id)
    except RetryLater:
        pass  # stopped at verification: the number is bought, recorded and configured
    db.session.remove()


def test_prefer_wait_with_thousands_of_digits_is_ignored_and_buys_one_number(
        client, api_headers, prov, sandbox, sent_tasks):
    # It was a 500 after the job was committed and queued: a client retrying without an
    # Idempotency-Key bought a second number.
    response = client.post("/api/clients/provision", json=BODY,
                           headers={**api_headers, "Prefer": "wait=" + "9" * 5000})
    assert response.status_code == 202
    assert "Preference-Applied" not in response.headers
    job_id = response.get_json()["job"]["id"]
    assert sent_tasks == [("ringly.provisioning.run_job", (job_id,))]
    _run_job_as_the_worker_would(job_id)
    assert len(sandbox.owned_numbers()) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProvisioningJob)) == 1


@pytest.mark.parametrize("prefer", [
    "wait=", "wait=abc", "wait=-1", "wait=1.5", "wait=12345", "wait=+5", "wait=\u0665",
    "wait 5", "respond-async", "wait=5" + " " * 300, "x" * 8000, "",
])
def test_a_prefer_header_ringly_cannot_read_is_ignored_never_an_error(
        client, api_headers, prov, prefer):
    response = client.post("/api/clients/provision", json=BODY,
                           headers={**api_headers, "Prefer": prefer})
    assert response.status_code == 202, response.get_json()
    assert "Preference-Applied" not in response.headers


def test_prefer_wait_is_read_among_other_preferences(client, api_headers, prov):
    response = client.post("/api/clients/provision", json=BODY,
                           headers={**api_headers, "Prefer": "respond-async, WAIT = 0"})
    assert response.status_code == 202
    assert response.headers["Preference-Applied"] == "wait=0"


def test_an_authorization_header_of_any_length_or_shape_is_a_401(client, prov):
    for value in ("Bearer " + "k" * 20000, "Bearer \x7f\x01rk_x", "Basic Zm9vOmJhcg==",
                  "Bearer", "B" * 8000):
        response = client.post("/api/clients/provision", json=BODY,
                               headers={"Authorization": value})
        assert response.status_code == 401, value[:20]
        assert response.mimetype == "application/problem+json"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0


def test_an_idempotency_key_belongs_to_the_api_key_that_sent_it(client, api_headers, prov):
    _, other_key = create_api_key("another-integration")
    other_headers = {"Authorization": f"Bearer {other_key}"}
    mine = client.post("/api/clients/provision", json=BODY,
                       headers={**api_headers, "Idempotency-Key": "signup-1"})
    theirs = client.post("/api/clients/provision", json=BODY,
                         headers={**other_headers, "Idempotency-Key": "signup-1"})
    assert mine.status_code == theirs.status_code == 202
    assert mine.get_json()["job"]["id"] != theirs.get_json()["job"]["id"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProvisioningJob)) == 2
    # Each API key's replay is its own job; another body is a conflict only for the same key.
    for headers, first in ((api_headers, mine), (other_headers, theirs)):
        again = client.post("/api/clients/provision", json=BODY,
                            headers={**headers, "Idempotency-Key": "signup-1"})
        assert again.get_json()["job"]["id"] == first.get_json()["job"]["id"]
    conflict = client.post("/api/clients/provision", json={**BODY, "areaCode": "212"},
                           headers={**other_headers, "Idempotency-Key": "signup-1"})
    assert conflict.status_code == 409
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProvisioningJob)) == 2


def test_a_job_from_before_keys_were_per_api_key_answers_a_replay_of_its_request(
        client, api_headers, prov):
    # Recorded by an earlier version: no API key. A retry across the upgrade must not buy twice.
    legacy = make_job(ProvisionRequestSchema().load(BODY), idempotency_key="signup-9")
    replay = client.post("/api/clients/provision", json=BODY,
                         headers={**api_headers, "Idempotency-Key": "signup-9"})
    assert replay.get_json()["job"]["id"] == legacy.id
    # Another body with the same key is not that request: a job of its own, no conflict.
    other = client.post("/api/clients/provision", json={**BODY, "areaCode": "212"},
                        headers={**api_headers, "Idempotency-Key": "signup-9"})
    assert other.status_code == 202 and other.get_json()["job"]["id"] != legacy.id


def test_unknown_job_is_a_404_problem(client, api_headers, prov):
    response = client.get("/api/provisioning-jobs/nope", headers=api_headers)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_openapi_documents_every_provisioning_route(client, prov):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path in ("/api/clients/provision", "/api/provisioning-jobs/{job_id}",
                 "/api/clients/search-numbers", "/api/clients/numbers/all", "/api/clients",
                 "/api/clients/{client_id}", "/api/clients/{client_id}/number",
                 "/api/clients/{client_id}/number/webhooks"):
        assert path in paths
    provision = paths["/api/clients/provision"]["post"]
    assert {"200", "202", "422"} <= set(provision["responses"])
    headers = {p["name"]: p for p in provision["parameters"] if p["in"] == "header"}
    assert headers["Idempotency-Key"]["schema"]["maxLength"] == 255
    assert "capped at 10" in headers["Prefer"]["description"]


def test_idempotency_keys_of_finished_jobs_expire_after_the_retention(
    client, api_headers, prov
):
    ids = {}
    for key in ("old-done", "old-running", "new-done"):
        answer = client.post("/api/clients/provision", json={**BODY, "email": f"{key}@x.example"},
                             headers={**api_headers, "Idempotency-Key": key})
        ids[key] = answer.get_json()["job"]["id"]
    long_ago = utcnow() - timedelta(hours=49)
    for key, state, created in (("old-done", "completed", long_ago),
                                ("old-running", "purchasing", long_ago),
                                ("new-done", "failed", utcnow())):
        job = db.session.get(ProvisioningJob, ids[key])
        job.state, job.created_at = state, created
    db.session.commit()

    assert expire_idempotency_keys() == 1
    db.session.expire_all()
    assert db.session.get(ProvisioningJob, ids["old-done"]).idempotency_key is None
    assert db.session.get(ProvisioningJob, ids["old-running"]).idempotency_key == "old-running"
    assert db.session.get(ProvisioningJob, ids["new-done"]).idempotency_key == "new-done"
    again = client.post("/api/clients/provision", json={**BODY, "email": "old-done@x.example"},
                        headers={**api_headers, "Idempotency-Key": "old-done"})
    assert again.status_code == 202
    assert again.get_json()["job"]["id"] != ids["old-done"]
