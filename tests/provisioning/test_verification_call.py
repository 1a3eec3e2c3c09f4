"""The signed request a job makes to check its number's voice URL is recorded as a finished
`verification` call, and stays out of the client's calls and usage unless asked for."""
from __future__ import annotations

import sqlalchemy as sa

from ringly.db import db
from ringly.provisioning import saga
from ringly.provisioning.models import ProvisioningJob
from ringly.voice.models import Call

BODY = {"business_name": "Bella Salon", "email": "owner@bella.example", "areaCode": "415"}


def provisioned(http, headers) -> int:
    response = http.post("/api/clients/provision", json=BODY, headers=headers)
    job_id = response.get_json()["job"]["id"]
    saga.advance(job_id)
    db.session.remove()
    job = db.session.get(ProvisioningJob, job_id)
    assert job.state == "completed", job.error_message
    return job.client_id


def test_the_verification_call_is_marked_and_finished(prov, client, api_headers):
    client_id = provisioned(client, api_headers)
    [call] = db.session.scalars(sa.select(Call).where(Call.client_id == client_id))
    assert call.purpose == "verification"
    assert call.status == "completed" and call.ended_at is not None
    assert call.from_number == "+15005550006" and call.duration_seconds == 0


def test_client_calls_and_usage_leave_the_verification_call_out(prov, client, api_headers):
    client_id = provisioned(client, api_headers)
    calls = client.get(f"/api/clients/{client_id}/calls", headers=api_headers)
    assert calls.status_code == 200 and calls.get_json() == []
    usage = client.get(f"/api/clients/{client_id}/usage", headers=api_headers).get_json()
    assert (usage["calls"], usage["minutes"]) == (0, 0)

    shown = client.get(f"/api/clients/{client_id}/calls?include_verification=true",
                       headers=api_headers).get_json()
    assert [(c["purpose"], c["status"]) for c in shown] == [("verification", "completed")]
    assert client.get(f"/api/clients/{client_id}/calls?include_verification=false",
                      headers=api_headers).get_json() == []


def test_a_verifier_that_made_no_call_marks_nothing(prov, client, api_headers):
    # Another verifier (as tests use) returns no CallSid: the job still completes.
    response = client.post("/api/clients/provision", json=BODY, headers=api_headers)
    job_id = response.get_json()["job"]["id"]
    saga.advance(job_id, verifier=lambda url, number: None)
    db.session.remove()
    assert db.session.get(ProvisioningJob, job_id).state == "completed"
    assert db.session.scalars(sa.select(Call)).all() == []
