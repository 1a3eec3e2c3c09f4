"""Messaging API v1 in the sandbox: Services/{ServiceSid}/PhoneNumbers against Twilio's spec,
its error codes, and carriers filtering texts from local numbers outside any service."""

from __future__ import annotations

import json

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from ringly.sandbox.server import SandboxServer
from ringly.telephony import (
    PermanentTelephonyError,
    TransientTelephonyError,
    TwilioGateway,
    WebhookConfig,
)
from tests.sandbox.recording import RecordingHttpClient, spec_path_for
from tests.sandbox.twilio_spec import TwilioSpec, load_twilio_spec, spec_path

SERVICE = "MG" + "ab" * 16
UNKNOWN_SERVICE = "MG" + "cd" * 16
NUMBERS_PATH = "/v1/Services/{ServiceSid}/PhoneNumbers"


@pytest.fixture
def spec() -> TwilioSpec:
    return load_twilio_spec("messaging_v1")


@pytest.fixture
def recorder(sandbox) -> RecordingHttpClient:
    return RecordingHttpClient(base_url=sandbox.url)


@pytest.fixture
def gateway(sandbox, recorder) -> TwilioGateway:
    sandbox.create_messaging_service(SERVICE)
    return TwilioGateway(sandbox.account_sid, sandbox.auth_token, http_client=recorder)


@pytest.fixture
def twilio(sandbox, recorder) -> Client:
    """The official client as is, for the operations the gateway does not need (fetch)."""
    return Client(sandbox.account_sid, sandbox.auth_token, http_client=recorder, environment={})


def buy(gateway: TwilioGateway, area_code: str = "415", *, sms: bool = True) -> str:
    for candidate in gateway.search_available(area_code=area_code, limit=12):
        if candidate.capabilities.get("sms") == sms:
            return gateway.purchase(phone_number=candidate.phone_number, friendly_name="shop",
                                    webhooks=WebhookConfig()).sid
    raise AssertionError(f"no number with sms={sms} in {area_code}")


def messaging_exchanges(recorder: RecordingHttpClient):
    return [e for e in recorder.exchanges if e.path.startswith("/v1/")]


def test_add_list_fetch_remove_bodies_match_the_messaging_spec(spec, sandbox, gateway,
                                                               recorder, twilio):
    sids = [buy(gateway, code) for code in ("415", "212", "303")]
    recorder.exchanges.clear()

    assert [gateway.add_to_messaging_service(SERVICE, sid) for sid in sids] == [True] * 3
    listed = gateway.list_messaging_service_numbers(SERVICE)
    paged = list(twilio.messaging.v1.services(SERVICE).phone_numbers.stream(page_size=2))
    fetched = twilio.messaging.v1.services(SERVICE).phone_numbers(sids[1]).fetch()
    assert gateway.remove_from_messaging_service(SERVICE, sids[0]) is True

    assert [n.sid for n in listed] == sids and {n.service_sid for n in listed} == {SERVICE}
    assert [n.sid for n in paged] == sids  # two pages of 2, followed by the library
    assert (fetched.sid, fetched.service_sid, fetched.country_code) == (sids[1], SERVICE, "US")
    assert set(fetched.capabilities) >= {"SMS", "Voice"}
    owned = {n["sid"]: n["phone_number"] for n in sandbox.owned_numbers()}
    assert sandbox.messaging_services()[SERVICE] == [owned[sids[1]], owned[sids[2]]]
    covered = []
    paths = list(spec.document["paths"])
    for exchange in messaging_exchanges(recorder):
        template = spec_path_for(exchange.path, paths)
        spec.validate(exchange.method, template, exchange.status, exchange.body)
        covered.append(f"{exchange.method} {template}")
    assert covered == [f"POST {NUMBERS_PATH}"] * 3 + [f"GET {NUMBERS_PATH}"] * 3 + [
        f"GET {NUMBERS_PATH}/{{Sid}}", f"DELETE {NUMBERS_PATH}/{{Sid}}"]


def test_adding_twice_is_harmless_and_removing_twice_says_it_was_not_there(gateway, recorder):
    sid = buy(gateway)
    assert gateway.add_to_messaging_service(SERVICE, sid) is True
    assert gateway.add_to_messaging_service(SERVICE, sid) is False  # Twilio's 409/21710
    assert gateway.remove_from_messaging_service(SERVICE, sid) is True
    assert gateway.remove_from_messaging_service(SERVICE, sid) is False  # 404/20404
    statuses = [(e.method, e.status) for e in messaging_exchanges(recorder)]
    assert statuses == [("POST", 201), ("POST", 409), ("DELETE", 204), ("DELETE", 404)]
    duplicate = json.loads(messaging_exchanges(recorder)[1].body)
    assert (duplicate["code"], duplicate["status"]) == (21710, 409)
    assert "type" not in duplicate  # the legacy body, so the library raises TwilioRestException


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("unknown service", 404, 20404),
        ("number not owned", 400, 21421),
        ("malformed number sid", 400, 21421),
        ("in another service", 409, 21712),
        ("voice-only number", 400, 21715),
    ],
)
def test_twilio_error_codes_for_numbers_a_service_cannot_take(sandbox, gateway, case, status,
                                                             code):
    service, sid = SERVICE, buy(gateway)
    if case == "unknown service":
        service = UNKNOWN_SERVICE
    elif case == "number not owned":
        gateway.release(sid)
    elif case == "malformed number sid":
        sid = "PN123"
    elif case == "in another service":
        other = sandbox.create_messaging_service()["sid"]
        gateway.add_to_messaging_service(other, sid)
    elif case == "voice-only number":
        sid = buy(gateway, "212", sms=False)
    with pytest.raises(PermanentTelephonyError) as failure:
        gateway.add_to_messaging_service(service, sid)
    assert (failure.value.status, failure.value.twilio_code) == (status, code)


def test_unknown_service_lists_and_fetches_as_not_found(gateway, twilio):
    with pytest.raises(PermanentTelephonyError) as listing:
        gateway.list_messaging_service_numbers(UNKNOWN_SERVICE)
    assert (listing.value.status, listing.value.twilio_code) == (404, 20404)
    with pytest.raises(TwilioRestException) as fetching:
        twilio.messaging.v1.services(SERVICE).phone_numbers("PN" + "0" * 32).fetch()
    assert (fetching.value.status, fetching.value.code) == (404, 20404)
    with pytest.raises(TwilioRestException) as deleting:
        twilio.messaging.v1.services(UNKNOWN_SERVICE).phone_numbers("PN" + "0" * 32).delete()
    assert (deleting.value.status, deleting.value.code) == (404, 20404)
    # The gateway reads that 404 as "it was not in the service".
    assert gateway.remove_from_messaging_service(UNKNOWN_SERVICE, "PN" + "0" * 32) is False


def test_releasing_a_number_takes_it_out_of_its_service(sandbox, gateway):
    sid = buy(gateway)
    gateway.add_to_messaging_service(SERVICE, sid)
    gateway.release(sid)
    assert sandbox.messaging_services()[SERVICE] == []


def test_messaging_requests_need_the_account_credentials(sandbox, gateway):
    stranger = TwilioGateway(sandbox.account_sid, "wrong-token", base_url=sandbox.url)
    with pytest.raises(PermanentTelephonyError) as failure:
        stranger.list_messaging_service_numbers(SERVICE)
    assert (failure.value.status, failure.value.twilio_code) == (401, 20003)


def test_faults_apply_to_messaging_service_requests(sandbox, gateway):
    sid = buy(gateway)
    sandbox.set_faults(rate_503=1.0, only=["messaging_service"])
    with pytest.raises(TransientTelephonyError) as failure:
        gateway.add_to_messaging_service(SERVICE, sid)
    assert failure.value.status == 503
    assert sandbox.request_counts()["messaging_service"] == 1


def test_preset_services_exist_from_the_start_and_after_a_reset():
    with SandboxServer(messaging_services=[SERVICE]) as server:
        assert server.messaging_services() == {SERVICE: []}
        server.reset()
        assert server.messaging_services() == {SERVICE: []}


def test_spec_examples_pass_the_validator_so_it_is_not_overly_strict(spec):
    raw = json.loads(spec_path("messaging_v1").read_text())
    checked = 0
    # Not the fetch example: its phone_number "12345" is not E.164, which its own schema
    # (format phone-number) asks for.
    for path, method in [(NUMBERS_PATH, "post"), (NUMBERS_PATH, "get")]:
        for status, answer in raw["paths"][path][method]["responses"].items():
            for example in answer["content"]["application/json"]["examples"].values():
                spec.validate(method, path, int(status), json.dumps(example["value"]))
                checked += 1
    assert checked == 4  # create, create with capabilities, create answered 200, list
