"""`flask jobs list|show|retry`: what a job did, and a retry that never buys twice."""
from __future__ import annotations

import sqlalchemy as sa

from ringly import tasks
from ringly.admin.models import AuditEvent
from ringly.db import db
from ringly.provisioning import saga
from ringly.provisioning.models import ProvisioningJob
from ringly.provisioning.states import JobState
from ringly.provisioning.verification import VerificationFailed
from tests.cli.conftest import assert_one_line_error, provisioned
from tests.provisioning.conftest import make_job


def _failed_job(area_code: str = "533") -> str:
    job_id = make_job({"business_name": "Nowhere", "email": "n@example.com",
                       "areaCode": area_code}).id
    assert saga.advance(job_id) == "failed"
    db.session.remove()
    return job_id


def test_list_and_show(cli, sandbox):
    done = provisioned()
    failed = _failed_job()
    listed = cli.json("jobs", "list")
    assert [job["id"] for job in listed] == [failed, done.id]
    assert [job["id"] for job in cli.json("jobs", "list", "--status", "failed")] == [failed]
    assert [job["id"] for job in cli.json("jobs", "list", "--client-id",
                                          str(done.client_id))] == [done.id]
    table = cli("jobs", "list")
    assert table.exit_code == 0 and table.stdout.splitlines()[-1] == "2 jobs"
    shown = cli.json("jobs", "show", done.id)
    assert shown["status"] == "completed"
    assert shown["result"]["number_details"]["phoneNumber"] == done.phone_number
    text = cli("jobs", "show", failed)
    assert "error:    no_numbers_available: no numbers available in area code 533" in text.stdout


def test_retry_makes_a_new_job_for_the_same_client_once(cli, sandbox, sent_tasks):
    failed = _failed_job()
    client_id = db.session.get(ProvisioningJob, failed).client_id
    retried = cli.json("jobs", "retry", failed, "--wait", "0")
    new_id = retried["job"]["id"]
    assert retried["retry_of"] == failed and new_id != failed
    assert retried["job"]["status"] == "queued" and retried["job"]["client_id"] == client_id
    assert sent_tasks == [(tasks.RUN_PROVISIONING_JOB, (new_id,))]
    new = db.session.get(ProvisioningJob, new_id)
    assert new.request == {key: value for key, value in
                           db.session.get(ProvisioningJob, failed).request.items()
                           if not key.startswith("_")}
    assert db.session.get(ProvisioningJob, failed).state == JobState.FAILED
    [event] = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.kind == "provisioning.retried"))
    assert event.actor == "cli jobs retry" and event.data["retry_of"] == failed
    # While the new job runs, the failed one cannot be retried again: no second job, no number.
    assert_one_line_error(cli("jobs", "retry", failed), f"already has job {new_id}")
    assert len(sent_tasks) == 1


def test_retry_refuses_a_job_that_did_not_fail_or_whose_client_has_a_number(cli, sandbox):
    done = provisioned()
    assert_one_line_error(cli("jobs", "retry", done.id),
                          "is completed: only a failed job can be retried")
    earlier = ProvisioningJob(client_id=done.client_id, state=JobState.FAILED, tag="earlier1",
                              request={"business_name": "Bella Salon", "email": "o@x.example"})
    db.session.add(earlier)
    db.session.commit()
    assert_one_line_error(cli("jobs", "retry", earlier.id),
                          f"client {done.client_id} already has the number {done.phone_number}")


def test_a_job_that_bought_a_number_then_failed_is_retried_with_one_number_in_the_end(
        cli, prov, sandbox, sent_tasks):
    job_id = make_job({"business_name": "Bella Salon", "email": "o@bella.example",
                       "areaCode": "415"}).id

    def unreachable_voice_url(_url: str, _number: str) -> None:
        raise VerificationFailed("the voice URL did not answer")

    prov.config["PROVISIONING_MAX_ATTEMPTS"] = 1
    try:
        assert saga.advance(job_id, verifier=unreachable_voice_url) == "failed"
    finally:
        prov.config["PROVISIONING_MAX_ATTEMPTS"] = 10
    db.session.remove()
    retried = cli.json("jobs", "retry", job_id, "--wait", "0")["job"]["id"]
    assert saga.advance(retried, verifier=lambda _url, _number: None) == "completed"
    db.session.remove()
    ledger = sandbox.ledger()
    assert [entry["event"] for entry in ledger] == ["purchase", "release", "purchase"]
    [live] = sandbox.owned_numbers()
    client = db.session.get(ProvisioningJob, retried).client
    assert client.twilio_number_sid == live["sid"] and client.rachel_enabled is True
