"""The provisioning API: validation, 202 + Location, idempotency keys, Prefer: wait, polling."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa

from ringly.clients.models import Client
from ringly.db import db, utcnow
from ringly.provisioning.models import ProvisioningJob
from ringly.provisioning.services import expire_idempotency_keys

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


def test_prefer_wait_above_30_seconds_is_clamped_and_said_so(client, api_headers, prov):
    headers = {**api_headers, "Idempotency-Key": "wait-1"}
    first = client.post("/api/clients/provision", json=BODY, headers=headers)
    job = db.session.get(ProvisioningJob, first.get_json()["job"]["id"])
    job.state, job.error_code, job.error_message = "failed", "no_numbers_available", "none left"
    job.twilio_error_code = 21452
    db.session.commit()
    # The job has ended, so the wait is over at once: 200 with the original failure shape.
    replay = client.post("/api/clients/provision", json=BODY,
                         headers={**headers, "Prefer": "wait=90"})
    assert replay.status_code == 200
    assert replay.headers["Preference-Applied"] == "wait=30"
    body = replay.get_json()
    assert body["success"] is False and body["job_id"] == job.id
    assert body["error"] == {"code": "no_numbers_available", "message": "none left",
                             "twilio_code": 21452}


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
