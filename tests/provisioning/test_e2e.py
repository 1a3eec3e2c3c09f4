"""End to end: the API, a real worker process, PostgreSQL, Redis and the sandbox over HTTP."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

BODY = {"business_name": "Bella Salon", "email": "owner@bella.example", "areaCode": "415"}


def provision(client, headers, body, wait=25):
    return client.post("/api/clients/provision", json=body,
                       headers={**headers, "Prefer": f"wait={wait}"})


def test_provision_completes_and_answers_the_original_shape(
    client, api_headers, prov, sandbox, celery_worker
):
    response = provision(client, api_headers, BODY)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["success"] is True
    assert set(body["client"]) == {"id", "business_name", "email", "ringlypro_number",
                                   "twilio_number_sid", "rachel_enabled", "active",
                                   "voice_webhook", "sms_webhook"}
    details = body["number_details"]
    assert set(details) == {"phoneNumber", "friendlyName", "locality", "region", "capabilities"}
    assert details["phoneNumber"].startswith("+1415")
    assert details["locality"] == "San Francisco"
    assert body["client"]["ringlypro_number"] == details["phoneNumber"]
    job = client.get(f"/api/provisioning-jobs/{body['job_id']}", headers=api_headers).get_json()
    assert job["status"] == "completed" and job["result"]["number_details"] == details
    assert job["finished_at"] and job["started_at"] and job["attempts"] == 1


def test_worker_adopts_a_number_whose_purchase_response_was_lost(
    client, api_headers, prov, sandbox, celery_worker
):
    sandbox.set_faults(rate_purchase_lost=1.0, only=["purchase"])
    body = provision(client, api_headers, BODY).get_json()
    assert body["success"] is True, body
    purchases = [e for e in sandbox.ledger() if e["event"] == "purchase"]
    assert len(purchases) == 1
    assert purchases[0]["sid"] == body["client"]["twilio_number_sid"]


def test_worker_retries_twilio_outages_until_the_job_completes(
    client, api_headers, prov, sandbox, celery_worker
):
    sandbox.set_faults(rate_503=0.3, rate_429=0.2, retry_after_s=0.2, seed=7,
                       only=["search", "purchase"])
    response = provision(client, api_headers, {**BODY, "tollFree": True}, wait=30)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["success"] is True, body
    assert body["number_details"]["phoneNumber"][2:5] in ("800", "833", "844", "855", "866",
                                                          "877", "888")


def test_worker_fails_an_empty_area_code_with_twilios_code(
    client, api_headers, prov, sandbox, celery_worker
):
    response = provision(client, api_headers, {**BODY, "areaCode": "533"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["success"] is False
    assert body["error"] == {"code": "no_numbers_available",
                             "message": "no numbers available in area code 533",
                             "twilio_code": 21452}


def test_replayed_request_returns_the_finished_job_without_a_second_number(
    client, api_headers, prov, sandbox, celery_worker
):
    headers = {**api_headers, "Idempotency-Key": "signup-e2e-1"}
    first = provision(client, headers, BODY)
    replay = provision(client, headers, BODY)
    assert first.status_code == replay.status_code == 200
    assert first.get_json()["job_id"] == replay.get_json()["job_id"]
    assert replay.get_json()["number_details"] == first.get_json()["number_details"]
    assert len([e for e in sandbox.ledger() if e["event"] == "purchase"]) == 1
    listing = client.get("/api/clients", headers=api_headers).get_json()
    assert listing["count"] == 1
