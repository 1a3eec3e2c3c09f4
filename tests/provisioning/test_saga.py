"""The saga's steps in-process against the sandbox over HTTP: selection, purchase, recovery."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ringly.clients.models import Client
from ringly.db import db
from ringly.provisioning import saga
from ringly.provisioning.exceptions import RetryLater
from ringly.provisioning.models import PhoneNumber, ProvisioningJob
from ringly.provisioning.numbers import friendly_name
from ringly.queue import MAX_RETRY_DELAY
from ringly.sandbox import inventory
from tests.provisioning.conftest import make_job

BODY = {"business_name": "Bella Salon", "email": "owner@bella.example", "country": "US"}


def run_until_verification(job_id: str) -> ProvisioningJob:
    """Advance the job; stop at verification if the voice entry is not there yet."""
    try:
        saga.advance(job_id)
    except RetryLater:
        pass
    db.session.remove()
    return db.session.get(ProvisioningJob, job_id)


def purchases(sandbox) -> list[dict]:
    return [entry for entry in sandbox.ledger() if entry["event"] == "purchase"]


@pytest.mark.smoke
def test_local_number_in_requested_area_code_is_bought_with_every_webhook(prov, sandbox):
    job = make_job({**BODY, "areaCode": "415"})
    job = run_until_verification(job.id)
    assert job.state in ("verifying", "completed")
    assert job.chosen_number.startswith("+1415")
    assert job.choice_reason == "in the requested area code 415"
    number = db.session.scalar(sa.select(PhoneNumber).where(PhoneNumber.sid == job.twilio_sid))
    base = prov.config["WEBHOOK_BASE_URL"]
    assert number.voice_url == f"{base}/voice/rachel/"
    assert number.voice_fallback_url == f"{base}/voice/fallback"
    assert number.sms_url == f"{base}/webhook/twilio/sms"
    assert number.status_callback == f"{base}/webhook/twilio/status"
    client = db.session.get(Client, job.client_id)
    assert client.ringlypro_number == job.chosen_number
    assert client.twilio_number_sid == job.twilio_sid
    [bought] = purchases(sandbox)
    assert bought["friendly_name"] == friendly_name("Bella Salon", job.tag)
    owned = {n["sid"]: n for n in sandbox.owned_numbers()}
    assert owned[job.twilio_sid]["voice_method"] == "POST"
    assert (number.monthly_price, number.price_unit) == (Decimal("1.15"), "USD")


def test_toll_free_request_buys_a_toll_free_number(prov, sandbox):
    job = run_until_verification(make_job({**BODY, "tollFree": True}).id)
    assert job.chosen_number[2:5] in ("800", "833", "844", "855", "866", "877", "888")
    number = db.session.scalar(sa.select(PhoneNumber).where(PhoneNumber.sid == job.twilio_sid))
    assert number.number_type == "toll_free"
    assert number.monthly_price == Decimal("2.15")


def test_specific_number_is_bought_as_asked(prov, sandbox):
    from ringly.telephony import get_gateway

    wanted = get_gateway().search_available(area_code="512", limit=3)[2].phone_number
    job = run_until_verification(make_job({**BODY, "phoneNumber": wanted}).id)
    assert job.chosen_number == wanted
    assert job.choice_reason == "the specific number asked for"


def test_empty_area_code_falls_back_to_a_nearby_code_of_the_same_state(prov, sandbox,
                                                                      monkeypatch):
    # 907 (Alaska) sells nothing in the sandbox and has no neighbour; 212's overlay does.
    # Buying 212 out takes more purchases than the default hourly cap allows.
    monkeypatch.setitem(prov.config, "PURCHASES_PER_HOUR_LIMIT", 1000)
    job = run_until_verification(make_job({**BODY, "areaCode": "212"}).id)
    assert job.chosen_number.startswith("+1212")
    db.session.remove()
    # Buy out 212 so the next job has to move on.
    for _ in range(len(inventory.numbers_for_area_code("212")) - 1):
        run_until_verification(make_job({**BODY, "areaCode": "212"}).id)
    job = run_until_verification(make_job({**BODY, "areaCode": "212"}).id)
    assert job.chosen_number.startswith("+1646"), job.choice_reason
    assert job.choice_reason == "area code 212 had none; 646 is nearby in NY"


def test_area_code_with_nothing_for_sale_fails_with_21452(prov, sandbox):
    job = run_until_verification(make_job({**BODY, "areaCode": "533"}).id)
    assert job.state == "failed"
    assert job.twilio_error_code == 21452
    assert job.error_message == "no numbers available in area code 533"
    assert purchases(sandbox) == []


def test_toll_free_fallback_when_allowed_and_no_local_number(prov, sandbox):
    job = run_until_verification(
        make_job({**BODY, "areaCode": "533", "allowTollFreeFallback": True}).id
    )
    assert job.state in ("verifying", "completed")
    assert "toll-free allowed" in job.choice_reason


def test_number_taken_meanwhile_moves_on_to_the_next_candidate(prov, sandbox):
    from ringly.provisioning.candidates import take_candidate
    from ringly.telephony import WebhookConfig, get_gateway

    first = take_candidate("US", "local", "303")  # fills the shared pool with the rest
    second = get_gateway().search_available(area_code="303", limit=2)[1]
    # Someone else buys the pool's next candidate behind Ringly's back.
    get_gateway().purchase(phone_number=second.phone_number, friendly_name="someone else",
                           webhooks=WebhookConfig())
    job = run_until_verification(make_job({**BODY, "areaCode": "303"}).id)
    assert job.chosen_number not in (first["phone_number"], second.phone_number)
    assert job.state in ("verifying", "completed")


@pytest.mark.parametrize(
    ("number", "twilio_code", "message"),
    [
        ("+15005550000", 21422, "the number +15005550000 is no longer available"),
        ("+15005550001", 21421, "the number +15005550001 is not a valid phone number"),
    ],
)
def test_permanent_purchase_errors_fail_the_job_with_twilios_code(
    prov, sandbox, number, twilio_code, message
):
    job = run_until_verification(make_job({**BODY, "phoneNumber": number}).id)
    assert job.state == "failed"
    assert job.twilio_error_code == twilio_code
    assert job.error_message == f"{message} (Twilio error {twilio_code})"
    assert job.finished_at is not None


def test_bad_credentials_fail_with_a_clear_auth_message(prov, sandbox):
    from ringly.telephony import TwilioGateway

    gateway = prov.extensions["telephony"]
    prov.extensions["telephony"] = TwilioGateway(gateway.account_sid, "wrong-token",
                                                 base_url=gateway.base_url)
    try:
        job = run_until_verification(make_job({**BODY, "areaCode": "415"}).id)
    finally:
        prov.extensions["telephony"] = gateway
    assert job.state == "failed"
    assert job.twilio_error_code == 20003
    assert "rejected Ringly's credentials" in job.error_message


@pytest.mark.parametrize("fault", ["rate_429", "rate_500", "rate_503"])
def test_transient_errors_are_retried_with_backoff_then_succeed(prov, sandbox, fault):
    sandbox.set_faults(**{fault: 1.0}, only=["search"], retry_after_s=2)
    job_id = make_job({**BODY, "areaCode": "415"}).id
    with pytest.raises(RetryLater) as retry:
        saga.advance(job_id)
    if fault == "rate_429":
        assert retry.value.delay >= 2  # Retry-After honoured
    db.session.remove()
    job = db.session.get(ProvisioningJob, job_id)
    assert job.state in ("queued", "searching") and job.next_attempt_at is not None
    sandbox.clear_faults()
    job = run_until_verification(job.id)
    assert job.state in ("verifying", "completed")
    assert job.attempts == 2


def test_a_day_long_retry_after_is_retried_within_the_visibility_timeout(prov, sandbox):
    sandbox.set_faults(rate_429=1.0, only=["search"], retry_after_s=86400)
    job_id = make_job({**BODY, "areaCode": "415"}).id
    with pytest.raises(RetryLater) as retry:
        saga.advance(job_id)
    assert 0 < retry.value.delay <= MAX_RETRY_DELAY  # the task's countdown
    db.session.remove()
    job = db.session.get(ProvisioningJob, job_id)
    # The sweep waits for next_attempt_at: it is as soon as the retry, not a day away.
    assert job.next_attempt_at <= datetime.now(UTC) + timedelta(seconds=MAX_RETRY_DELAY)


def test_transient_errors_stop_at_the_attempt_cap(prov, sandbox):
    sandbox.set_faults(rate_503=1.0, only=["search"])
    job_id = make_job({**BODY, "areaCode": "415"}).id
    cap = prov.config["PROVISIONING_MAX_ATTEMPTS"]
    for _ in range(cap - 1):
        with pytest.raises(RetryLater):
            saga.advance(job_id)
    saga.advance(job_id)
    db.session.remove()
    job = db.session.get(ProvisioningJob, job_id)
    assert job.state == "failed"
    assert job.error_code == "twilio_unavailable"
    assert job.error_message.startswith(f"gave up after {cap} attempts")


@pytest.mark.smoke
def test_retry_after_lost_purchase_response_adopts_number_without_buying_again(prov, sandbox):
    sandbox.set_faults(rate_purchase_lost=1.0)
    job_id = make_job({**BODY, "areaCode": "617"}).id
    with pytest.raises(RetryLater):
        saga.advance(job_id)
    db.session.remove()
    job = db.session.get(ProvisioningJob, job_id)
    assert job.state == "purchasing" and job.purchase_started_at and job.twilio_sid is None
    sandbox.clear_faults()
    job = run_until_verification(job.id)
    assert len(purchases(sandbox)) == 1
    assert job.twilio_sid == purchases(sandbox)[0]["sid"]
    assert "adopted after a lost response" in job.choice_reason


def test_job_found_mid_purchase_after_a_crash_looks_before_buying(prov, sandbox):
    from ringly.provisioning.numbers import desired_webhooks
    from ringly.telephony import get_gateway

    job = make_job({**BODY, "areaCode": "720"})
    number = get_gateway().search_available(area_code="720", limit=1)[0].phone_number
    # The worker died right after Twilio committed the purchase.
    get_gateway().purchase(phone_number=number, friendly_name=friendly_name("Bella Salon",
                           job.tag), webhooks=desired_webhooks())
    job.state, job.chosen_number = "purchasing", number
    job.purchase_started_at = datetime.now(UTC)
    db.session.commit()
    job = run_until_verification(job.id)
    assert len(purchases(sandbox)) == 1
    assert job.twilio_sid == purchases(sandbox)[0]["sid"]


def test_spending_cap_fails_the_job_and_buys_nothing(prov, sandbox):
    prov.config["NUMBERS_TOTAL_LIMIT"] = 1
    try:
        first = run_until_verification(make_job({**BODY, "areaCode": "415"}).id)
        assert first.state in ("verifying", "completed")
        second = run_until_verification(make_job({**BODY, "areaCode": "415"}).id)
    finally:
        prov.config["NUMBERS_TOTAL_LIMIT"] = 1000
    assert second.state == "failed" and second.error_code == "spending_limit"
    assert "NUMBERS_TOTAL_LIMIT" in second.error_message
    assert len(purchases(sandbox)) == 1


def test_hourly_purchase_cap_is_enforced(prov, sandbox):
    prov.config["PURCHASES_PER_HOUR_LIMIT"] = 0
    try:
        job = run_until_verification(make_job({**BODY, "areaCode": "415"}).id)
    finally:
        prov.config["PURCHASES_PER_HOUR_LIMIT"] = 100
    assert job.state == "failed" and "PURCHASES_PER_HOUR_LIMIT" in job.error_message
    assert purchases(sandbox) == []


def test_failed_client_write_after_purchase_releases_the_number(prov, sandbox):
    from ringly.telephony import get_gateway

    wanted = get_gateway().search_available(area_code="206", limit=1)[0].phone_number
    # Another client already claims the number, so the client's row cannot take it.
    db.session.add(Client(business_name="Other", email="o@example.com",
                          ringlypro_number=wanted))
    db.session.commit()
    job = run_until_verification(make_job({**BODY, "phoneNumber": wanted}).id)
    assert job.state == "failed" and job.error_code == "client_write_failed"
    assert job.error_message.endswith(f"the number {wanted} was released at Twilio")
    number = db.session.scalar(sa.select(PhoneNumber).where(PhoneNumber.phone_number == wanted))
    assert number.status == "released" and number.client_id is None
    assert [e["event"] for e in sandbox.ledger()] == ["purchase", "release"]
    assert sandbox.owned_numbers() == []


def test_failed_client_write_quarantines_when_release_is_unavailable(prov, sandbox):
    from ringly.telephony import get_gateway

    wanted = get_gateway().search_available(area_code="206", limit=1)[0].phone_number
    db.session.add(Client(business_name="Other", email="o@example.com",
                          ringlypro_number=wanted))
    db.session.commit()
    sandbox.set_faults(rate_503=1.0, only=["release"])
    job = run_until_verification(make_job({**BODY, "phoneNumber": wanted}).id)
    assert job.state == "failed"
    assert job.error_message.endswith("is quarantined until released")
    number = db.session.scalar(sa.select(PhoneNumber).where(PhoneNumber.phone_number == wanted))
    assert number.status == "quarantined"
    sandbox.clear_faults()
    from ringly.provisioning.lifecycle import release_due_quarantined

    assert release_due_quarantined() == 1
    assert sandbox.owned_numbers() == []


def test_completed_job_passes_signed_voice_verification(prov, sandbox):
    job_id = make_job({**BODY, "areaCode": "415"}).id
    assert saga.advance(job_id) == "completed"
    db.session.remove()
    job = db.session.get(ProvisioningJob, job_id)
    number = db.session.scalar(sa.select(PhoneNumber).where(PhoneNumber.sid == job.twilio_sid))
    assert number.status == "active"
    assert job.finished_at is not None


def test_spending_cap_holds_when_jobs_race_for_the_last_slot(prov, sandbox):
    import threading

    prov.config["NUMBERS_TOTAL_LIMIT"] = 1
    job_ids = [make_job({**BODY, "areaCode": code}).id for code in ("415", "212", "512", "206")]
    barrier = threading.Barrier(len(job_ids))

    def run(job_id: str) -> None:
        with prov.app_context():
            barrier.wait()
            try:
                saga.advance(job_id)
            except RetryLater:
                pass
            db.session.remove()

    threads = [threading.Thread(target=run, args=(job_id,)) for job_id in job_ids]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        prov.config["NUMBERS_TOTAL_LIMIT"] = 1000
    db.session.remove()
    errors = sorted(str(db.session.get(ProvisioningJob, job_id).error_code) for job_id in job_ids)
    assert errors == ["None", "spending_limit", "spending_limit", "spending_limit"]
    assert len(purchases(sandbox)) == 1
