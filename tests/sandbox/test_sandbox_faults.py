"""Fault controls: injected errors, dropped and lost responses, concurrency caps, persistence."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from ringly.sandbox.server import SandboxServer


def twilio_get(sandbox, path: str = "/IncomingPhoneNumbers.json") -> requests.Response:
    return requests.get(
        f"{sandbox.url}/2010-04-01/Accounts/{sandbox.account_sid}{path}",
        auth=(sandbox.account_sid, sandbox.auth_token),
        timeout=5,
    )


def buy(sandbox, **data) -> requests.Response:
    return requests.post(
        f"{sandbox.url}/2010-04-01/Accounts/{sandbox.account_sid}/IncomingPhoneNumbers.json",
        data=data,
        auth=(sandbox.account_sid, sandbox.auth_token),
        timeout=5,
    )


def test_dropped_connection_reaches_the_client_as_connection_error(sandbox):
    sandbox.set_faults(rate_drop=1.0)
    with pytest.raises(requests.ConnectionError):
        twilio_get(sandbox)


def test_lost_purchase_is_committed_while_client_sees_a_timeout(sandbox):
    sandbox.set_faults(rate_purchase_lost=1.0, lost_response_delay_s=0.3)
    with pytest.raises(requests.ReadTimeout):
        requests.post(
            f"{sandbox.url}/2010-04-01/Accounts/{sandbox.account_sid}/IncomingPhoneNumbers.json",
            data={"AreaCode": "214", "FriendlyName": "lost-one"},
            auth=(sandbox.account_sid, sandbox.auth_token),
            timeout=(1, 0.1),
        )
    assert [e["friendly_name"] for e in sandbox.ledger()] == ["lost-one"]
    assert [n["friendly_name"] for n in sandbox.owned_numbers()] == ["lost-one"]


def test_429_fault_sets_retry_after_and_twilio_code(sandbox):
    sandbox.set_faults(rate_429=1.0, retry_after_s=3)
    response = twilio_get(sandbox)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3" and response.json()["code"] == 20429


def test_max_in_flight_answers_429_to_the_excess_concurrent_requests(sandbox):
    sandbox.set_faults(max_in_flight=2, latency_ms=200)
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(r.status_code for r in pool.map(lambda _: twilio_get(sandbox), range(6)))
    assert statuses.count(200) >= 2 and statuses.count(429) >= 1
    assert set(statuses) <= {200, 429}


def test_only_limits_faults_to_the_named_operations(sandbox):
    sandbox.set_faults(rate_500=1.0, only=["purchase"])
    assert twilio_get(sandbox).status_code == 200
    assert buy(sandbox, AreaCode="480").status_code == 500


def test_same_seed_gives_the_same_fault_sequence(sandbox):
    def run() -> list[int]:
        sandbox.set_faults(rate_500=0.5, seed=7)
        return [twilio_get(sandbox).status_code for _ in range(12)]

    first = run()
    assert first == run() and set(first) == {200, 500}


def test_faults_never_touch_the_control_routes(sandbox):
    sandbox.set_faults(rate_drop=1.0, latency_ms=0)
    assert sandbox.ledger() == [] and sandbox.owned_numbers() == []
    assert (
        requests.get(f"{sandbox.url}/sandbox/faults", timeout=5).json()["faults"]["rate_drop"]
        == 1.0
    )


def test_bad_fault_settings_are_rejected_as_problem_json(sandbox):
    for settings in ({"rate_500": 2}, {"bogus": 1}, {"only": ["dance"]}):
        response = requests.post(f"{sandbox.url}/sandbox/faults", json=settings, timeout=5)
        assert response.status_code == 400
        assert response.headers["Content-Type"] == "application/problem+json"


def test_reset_forgets_numbers_ledger_and_faults(sandbox):
    buy(sandbox, AreaCode="213")
    sandbox.set_faults(rate_503=1.0)
    sandbox.reset()
    assert sandbox.owned_numbers() == [] and sandbox.ledger() == []
    assert twilio_get(sandbox).status_code == 200


def test_state_file_keeps_purchases_and_ledger_across_a_restart(tmp_path):
    state_file = str(tmp_path / "sandbox.json")
    with SandboxServer(state_file=state_file) as first:
        kept = buy(first, AreaCode="206", FriendlyName="kept").json()
        released = buy(first, AreaCode="206").json()
        requests.delete(
            f"{first.url}{released['uri']}", auth=(first.account_sid, first.auth_token), timeout=5
        )
    with SandboxServer(state_file=state_file) as second:
        assert [n["sid"] for n in second.owned_numbers()] == [kept["sid"]]
        assert [e["event"] for e in second.ledger()] == ["purchase", "purchase", "release"]
        assert (
            twilio_get(second, f"/IncomingPhoneNumbers/{kept['sid']}.json").json()["friendly_name"]
            == "kept"
        )
        assert buy(second, PhoneNumber=kept["phone_number"]).json()["code"] == 21422


def test_request_counts_tally_every_twilio_request_by_operation(sandbox):
    auth = (sandbox.account_sid, sandbox.auth_token)
    base = f"{sandbox.url}/2010-04-01/Accounts/{sandbox.account_sid}"
    requests.get(f"{base}/AvailablePhoneNumbers/US/Local.json", auth=auth, timeout=5)
    requests.get(f"{base}/IncomingPhoneNumbers.json", auth=auth, timeout=5)
    requests.get(f"{base}/IncomingPhoneNumbers.json", auth=("AC" + "0" * 32, "x"), timeout=5)
    assert sandbox.request_counts() == {"search": 1, "list": 2}
    sandbox.clear_request_counts()
    assert sandbox.request_counts() == {}
