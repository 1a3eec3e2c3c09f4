"""TWILIO_MESSAGING_SERVICE_SID: every number Ringly buys joins the Messaging Service (a step of
its own in the job), leaves it when released, is put back by reconciliation, and texts go
through it; with the sandbox's carriers filtering, only texts from numbers in it arrive."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from ringly.admin.models import AuditEvent
from ringly.config import ConfigurationError, load_config
from ringly.db import db
from ringly.messaging import outbound
from ringly.messaging.models import Message
from ringly.provisioning import saga
from ringly.provisioning.exceptions import RetryLater
from ringly.provisioning.models import PhoneNumber, ProvisioningJob
from ringly.provisioning.reconcile import reconcile_numbers
from ringly.provisioning.states import JobState, JobStep
from ringly.telephony import WebhookConfig, get_gateway
from tests.messaging.test_outbound import _queue_confirmation
from tests.provisioning.conftest import make_job

SERVICE = "MG" + "7e" * 16
BODY = {"business_name": "Bella Salon", "email": "owner@bella.example"}


@pytest.fixture
def service(prov: Flask, sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """TWILIO_MESSAGING_SERVICE_SID set, and that service existing in the sandbox."""
    sandbox.create_messaging_service(SERVICE)
    monkeypatch.setitem(prov.config, "TWILIO_MESSAGING_SERVICE_SID", SERVICE)
    yield SERVICE


def advance(job_id: str) -> ProvisioningJob:
    try:
        saga.advance(job_id)
    except RetryLater:
        pass
    db.session.remove()
    return db.session.get(ProvisioningJob, job_id)


def number_of(job: ProvisioningJob) -> PhoneNumber:
    return db.session.scalar(sa.select(PhoneNumber).where(PhoneNumber.sid == job.twilio_sid))


def events(kind: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == kind)))


def sms_number_in(area_code: str, *, sms: bool = True) -> str:
    found = get_gateway().search_available(area_code=area_code, limit=12)
    return next(n.phone_number for n in found if n.capabilities.get("sms") == sms)


@pytest.mark.parametrize("raw", ["MG123", "PN" + "7e" * 16, "mg" + "7e" * 16 + "x"])
def test_a_setting_that_is_no_messaging_service_sid_stops_start_up(tmp_path, raw):
    with pytest.raises(ConfigurationError, match="TWILIO_MESSAGING_SERVICE_SID"):
        load_config(str(tmp_path), env={"TWILIO_MESSAGING_SERVICE_SID": raw})
    assert load_config(str(tmp_path), env={"TWILIO_MESSAGING_SERVICE_SID": f" {SERVICE} "})[
        "TWILIO_MESSAGING_SERVICE_SID"] == SERVICE
    assert load_config(str(tmp_path), env={})["TWILIO_MESSAGING_SERVICE_SID"] is None


def test_a_provision_adds_the_number_to_the_messaging_service(service, sandbox):
    job = advance(make_job({**BODY, "areaCode": "312"}).id)
    assert job.state == JobState.COMPLETED, job.error_message
    assert sandbox.messaging_services()[service] == [job.chosen_number]
    number = number_of(job)
    assert number.messaging_service_sid == service
    [event] = events("number.messaging_service_added")
    assert event.message == f"{job.chosen_number} is in the Messaging Service {service}"


def test_without_the_setting_no_number_joins_a_service(prov, sandbox):
    sandbox.create_messaging_service(SERVICE)
    job = advance(make_job({**BODY, "areaCode": "312"}).id)
    assert job.state == JobState.COMPLETED
    assert sandbox.messaging_services()[SERVICE] == []
    assert number_of(job).messaging_service_sid is None
    assert "messaging_service" not in sandbox.request_counts()


def test_the_step_is_a_recovery_point_retried_after_a_transient_error(service, sandbox):
    sandbox.set_faults(rate_503=1.0, only=["messaging_service"])
    job = advance(make_job({**BODY, "areaCode": "312"}).id)
    # Bought and configured; stopped at its own step, to be retried from there.
    assert (job.state, job.step) == (JobState.CONFIGURING, JobStep.ADD_TO_MESSAGING_SERVICE)
    assert job.next_attempt_at is not None and "Service Unavailable" in job.error_message
    sandbox.clear_faults()
    sandbox.clear_request_counts()
    job = advance(job.id)
    assert job.state == JobState.COMPLETED
    assert sandbox.messaging_services()[service] == [job.chosen_number]
    # Resumed at the step: nothing bought or configured again.
    assert set(sandbox.request_counts()) == {"messaging_service"}
    assert len([e for e in sandbox.ledger() if e["event"] == "purchase"]) == 1


def test_adding_a_number_already_in_the_service_counts_as_done(service, sandbox):
    sandbox.set_faults(rate_503=1.0, only=["messaging_service"])
    job = advance(make_job({**BODY, "areaCode": "312"}).id)
    sandbox.clear_faults()
    # The first attempt's add went through after all (its answer was lost).
    get_gateway().add_to_messaging_service(service, job.twilio_sid)
    job = advance(job.id)
    assert job.state == JobState.COMPLETED
    assert sandbox.messaging_services()[service] == [job.chosen_number]
    [event] = events("number.messaging_service_added")
    assert event.message.endswith("(it was already there)")


def test_an_unknown_service_fails_the_job_clearly_and_releases_the_number(prov, sandbox,
                                                                          monkeypatch):
    monkeypatch.setitem(prov.config, "TWILIO_MESSAGING_SERVICE_SID", SERVICE)  # not created
    job = advance(make_job({**BODY, "areaCode": "312"}).id)
    assert job.state == JobState.FAILED
    assert (job.error_code, job.twilio_error_code) == ("messaging_service_failed", 20404)
    assert job.error_message.startswith(
        f"the Messaging Service {SERVICE} does not exist in this Twilio account "
        "(check TWILIO_MESSAGING_SERVICE_SID) (Twilio error 20404); the number ")
    assert job.error_message.endswith("was released at Twilio")
    assert sandbox.owned_numbers() == []
    assert number_of(job).status == "released"


def test_a_number_in_another_service_fails_the_job_and_is_released(service, sandbox):
    # Someone put the number in another service between purchase and this step.
    other = sandbox.create_messaging_service()["sid"]
    sandbox.set_faults(rate_503=1.0, only=["messaging_service"])
    job = advance(make_job({**BODY, "areaCode": "312"}).id)
    sandbox.clear_faults()
    get_gateway().add_to_messaging_service(other, job.twilio_sid)
    job = advance(job.id)
    assert (job.state, job.twilio_error_code) == (JobState.FAILED, 21712)
    assert f"the number {job.chosen_number} is in another Messaging Service" in job.error_message
    assert sandbox.owned_numbers() == []


def test_a_number_that_cannot_text_stays_out_and_the_job_completes(service, sandbox):
    voice_only = sms_number_in("212", sms=False)
    job = advance(make_job({**BODY, "phoneNumber": voice_only}).id)
    assert job.state == JobState.COMPLETED
    assert sandbox.messaging_services()[service] == []
    assert len(events("number.messaging_service_skipped")) == 1


def test_a_released_number_is_removed_from_the_service(service, sandbox, client, api_headers):
    job = advance(make_job({**BODY, "areaCode": "312"}).id)
    job_id, client_id = job.id, job.client_id
    answer = client.delete(f"/api/clients/{client_id}/number", headers=api_headers)
    assert answer.status_code == 200, answer.json
    assert sandbox.messaging_services()[service] == []
    assert sandbox.owned_numbers() == []
    db.session.remove()
    number = number_of(db.session.get(ProvisioningJob, job_id))
    assert (number.status, number.messaging_service_sid) == ("released", None)
    assert len(events("number.messaging_service_removed")) == 1


def test_a_release_leaves_the_service_the_number_was_put_in(service, sandbox, prov,
                                                           client, api_headers):
    client_id = advance(make_job({**BODY, "areaCode": "312"}).id).client_id
    prov.config["TWILIO_MESSAGING_SERVICE_SID"] = "MG" + "99" * 16  # the setting changed since
    answer = client.delete(f"/api/clients/{client_id}/number", headers=api_headers)
    assert answer.status_code == 200, answer.json
    assert sandbox.messaging_services()[service] == []
    db.session.remove()
    [event] = events("number.messaging_service_removed")  # from the service it was put in
    assert event.message.endswith(f"left the Messaging Service {service}")


def test_reconciliation_puts_back_a_number_removed_behind_ringlys_back(service, sandbox):
    job = advance(make_job({**BODY, "areaCode": "312"}).id)
    get_gateway().remove_from_messaging_service(service, job.twilio_sid)

    findings = reconcile_numbers()

    assert findings == {"ok": 1, "messaging_service_repaired": 1}
    assert sandbox.messaging_services()[service] == [job.chosen_number]
    [event] = events("number.messaging_service_repaired")
    assert event.message == (f"{job.chosen_number} was missing from the Messaging Service "
                             f"{service}; added back")
    assert reconcile_numbers() == {"ok": 1}  # nothing left to repair


def test_reconciliation_reports_what_it_cannot_add(service, sandbox):
    job = advance(make_job({**BODY, "areaCode": "312"}).id)
    get_gateway().remove_from_messaging_service(service, job.twilio_sid)
    other = sandbox.create_messaging_service()["sid"]
    get_gateway().add_to_messaging_service(other, job.twilio_sid)
    assert reconcile_numbers() == {"ok": 1, "messaging_service_missing": 1}
    [event] = events("number.messaging_service_missing")
    assert "Twilio error 21712" in event.message


def test_reconciliation_reports_a_service_twilio_does_not_know(prov, sandbox, monkeypatch):
    advance(make_job({**BODY, "areaCode": "312"}).id)
    monkeypatch.setitem(prov.config, "TWILIO_MESSAGING_SERVICE_SID", SERVICE)  # not created
    assert reconcile_numbers() == {"ok": 1, "messaging_service_unavailable": 1}
    assert len(events("messaging_service.unavailable")) == 1


# -- confirmation texts under carrier filtering ---------------------------------------------

@pytest.fixture
def texting(app: Flask, sandbox, monkeypatch: pytest.MonkeyPatch) -> str:
    """The service configured and existing; the sandbox's carriers filter unregistered texts."""
    sandbox.create_messaging_service(SERVICE)
    sandbox.set_control(carrier_filtering=True)
    monkeypatch.setitem(app.config, "TWILIO_MESSAGING_SERVICE_SID", SERVICE)
    return SERVICE


def _owned_number(app: Flask, *, in_service: bool) -> str:
    with app.app_context():
        gateway = get_gateway()
        number = gateway.purchase(phone_number=sms_number_in("312"), friendly_name="Bella",
                                  webhooks=WebhookConfig())
        if in_service:
            gateway.add_to_messaging_service(SERVICE, number.sid)
    return number.phone_number


def _send_and_deliver(app: Flask, sandbox, client_number: str) -> Message:
    message_id = _queue_confirmation(app, client_number=client_number)
    with app.app_context():
        outbound.send_message(message_id)
    # The sandbox delivers and posts the signed status callbacks to Ringly's webhook.
    [report] = sandbox.deliver_messages()
    assert [c["http_status"] for c in report["callbacks"]] == [200, 200]
    with app.app_context():
        message = db.session.get(Message, message_id)
        db.session.expunge(message)
        db.session.remove()
    return message


def test_a_confirmation_from_a_number_outside_the_service_ends_undelivered_30034(app, sandbox,
                                                                                  texting):
    number = _owned_number(app, in_service=False)
    message = _send_and_deliver(app, sandbox, number)
    assert (message.status, message.error_code) == ("undelivered", 30034)
    [sent] = sandbox.messages()
    # Sent through the service, from the business's own number.
    assert (sent["from"], sent["messaging_service_sid"]) == (number, texting)


def test_a_confirmation_from_a_number_in_the_service_is_delivered(app, sandbox, texting):
    number = _owned_number(app, in_service=True)
    message = _send_and_deliver(app, sandbox, number)
    assert (message.status, message.error_code) == ("delivered", None)
    [sent] = sandbox.messages()
    assert (sent["from"], sent["messaging_service_sid"]) == (number, texting)
