"""The gateway turns every Twilio and network failure into the right TelephonyError."""

from __future__ import annotations

import socket

import pytest

from ringly.telephony import (
    NumberNotFound,
    PermanentTelephonyError,
    TransientTelephonyError,
    TwilioGateway,
    WebhookConfig,
)

WEBHOOKS = WebhookConfig(
    voice_url="https://ringly.example/voice", status_callback="https://ringly.example/status"
)


@pytest.fixture
def gateway(sandbox) -> TwilioGateway:
    return TwilioGateway(sandbox.account_sid, sandbox.auth_token, base_url=sandbox.url)


def buy(gateway: TwilioGateway, **kwargs):
    kwargs.setdefault("friendly_name", "client-1")
    return gateway.purchase(webhooks=WEBHOOKS, **kwargs)


def test_wrong_auth_token_is_permanent_20003_on_create_and_on_list(sandbox):
    intruder = TwilioGateway(sandbox.account_sid, "wrong-token", base_url=sandbox.url)
    for attempt in (lambda: buy(intruder, area_code="212"), intruder.find_numbers):
        with pytest.raises(PermanentTelephonyError) as caught:
            attempt()
        assert (caught.value.status, caught.value.twilio_code) == (401, 20003)


@pytest.mark.parametrize("phone_number", ["+15005550001", "12345", "+1abc"])
def test_invalid_phone_number_is_permanent_21421(gateway, phone_number):
    with pytest.raises(PermanentTelephonyError) as caught:
        buy(gateway, phone_number=phone_number)
    assert caught.value.twilio_code == 21421 and caught.value.status == 400


def test_unavailable_owned_or_unknown_number_is_permanent_21422(gateway):
    owned = buy(gateway, area_code="206")
    for phone_number in ("+15005550000", owned.phone_number, "+12065550123"):
        with pytest.raises(PermanentTelephonyError) as caught:
            buy(gateway, phone_number=phone_number)
        assert caught.value.twilio_code == 21422


@pytest.mark.parametrize("area_code", ["533", "907", "808"])
def test_empty_area_code_is_permanent_21452(gateway, area_code):
    with pytest.raises(PermanentTelephonyError) as caught:
        buy(gateway, area_code=area_code)
    assert caught.value.twilio_code == 21452
    assert gateway.search_available(area_code=area_code) == []


def test_magic_test_number_is_buyable_and_can_send_sms(gateway):
    bought = buy(gateway, phone_number="+15005550006")
    assert bought.phone_number == "+15005550006"
    assert (
        gateway.send_sms(to="+14155550100", from_=bought.phone_number, body="hi").status == "queued"
    )


def test_429_keeps_code_and_retry_after_on_fetch_and_on_list(sandbox, gateway):
    owned = buy(gateway, area_code="303")
    sandbox.set_faults(rate_429=1.0, retry_after_s=2.5)
    for attempt in (lambda: gateway.fetch_number(owned.sid), gateway.find_numbers):
        with pytest.raises(TransientTelephonyError) as caught:
            attempt()
        error = caught.value
        assert (error.status, error.twilio_code, error.retry_after) == (429, 20429, 2.5)
        assert error.outcome_unknown is False


def test_500_on_purchase_is_transient_with_unknown_outcome(sandbox, gateway):
    sandbox.set_faults(rate_500=1.0, only=["purchase"])
    with pytest.raises(TransientTelephonyError) as caught:
        buy(gateway, area_code="404")
    assert caught.value.status == 500 and caught.value.outcome_unknown is True


def test_503_on_read_is_transient_with_known_outcome(sandbox, gateway):
    sandbox.set_faults(rate_503=1.0)
    with pytest.raises(TransientTelephonyError) as caught:
        gateway.search_available(area_code="404")
    assert caught.value.status == 503 and caught.value.outcome_unknown is False


def test_dropped_connection_is_transient_with_unknown_outcome(sandbox, gateway):
    sandbox.set_faults(rate_drop=1.0)
    with pytest.raises(TransientTelephonyError) as caught:
        buy(gateway, area_code="602")
    assert caught.value.status is None and caught.value.outcome_unknown is True


def test_lost_purchase_response_is_in_ledger_and_findable_by_name(sandbox, gateway):
    sandbox.set_faults(rate_purchase_lost=1.0)
    with pytest.raises(TransientTelephonyError) as caught:
        buy(gateway, area_code="512", friendly_name="job-42")
    assert caught.value.outcome_unknown is True
    sandbox.clear_faults()

    [entry] = sandbox.ledger()
    assert entry["event"] == "purchase" and entry["friendly_name"] == "job-42"
    [adopted] = gateway.find_numbers(friendly_name="job-42")
    assert adopted.sid == entry["sid"] and adopted.matches(WEBHOOKS)


def test_read_timeout_after_sending_is_transient_with_unknown_outcome(sandbox):
    slow = TwilioGateway(
        sandbox.account_sid, sandbox.auth_token, base_url=sandbox.url, read_timeout=0.05
    )
    sandbox.set_faults(latency_ms=300)
    with pytest.raises(TransientTelephonyError) as caught:
        buy(slow, area_code="305")
    assert caught.value.outcome_unknown is True


def test_connection_refused_is_transient_and_known_not_processed(sandbox):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    nowhere = TwilioGateway(
        sandbox.account_sid, sandbox.auth_token, base_url=f"http://127.0.0.1:{port}"
    )
    with pytest.raises(TransientTelephonyError) as caught:
        buy(nowhere, area_code="305")
    assert caught.value.outcome_unknown is False


def test_unknown_or_released_sid_is_number_not_found(gateway):
    owned = buy(gateway, area_code="720")
    gateway.release(owned.sid)
    for attempt in (
        lambda: gateway.fetch_number(owned.sid),
        lambda: gateway.update_webhooks(owned.sid, WEBHOOKS),
        lambda: gateway.release(owned.sid),
        lambda: gateway.fetch_number("PN" + "0" * 32),
    ):
        with pytest.raises(NumberNotFound) as caught:
            attempt()
        assert (caught.value.status, caught.value.twilio_code) == (404, 20404)


def test_sms_magic_numbers_and_unowned_from_keep_twilio_codes(gateway):
    cases = [
        ("+15005550006", "+15005550001", 21211),
        ("+15005550006", "+15005550002", 21612),
        ("+15005550006", "not-a-number", 21211),
        ("+15005550001", "+14155550100", 21212),
        ("+15005550008", "+14155550100", 21611),
        ("+14155550199", "+14155550100", 21606),
    ]
    for from_, to, code in cases:
        with pytest.raises(PermanentTelephonyError) as caught:
            gateway.send_sms(to=to, from_=from_, body="hello")
        assert caught.value.twilio_code == code, (from_, to)
    with pytest.raises(PermanentTelephonyError) as caught:
        gateway.send_sms(to="+14155550100", from_="+15005550006", body="x" * 1601)
    assert caught.value.twilio_code == 21617
