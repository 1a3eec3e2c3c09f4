"""Texts in the sandbox: sent through a Messaging Service, delivered on demand with signed status
callbacks, and filtered like US carriers do when the sender is a local number in no service."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from flask import Flask, request
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from ringly.telephony import PermanentTelephonyError, TwilioGateway, WebhookConfig
from ringly.telephony.http_client import GatewayHttpClient
from ringly.telephony.signatures import is_valid_signature
from tests.support.wsgi_server import LiveServer

SERVICE = "MG" + "ab" * 16
CUSTOMER = "+14155550142"


class CallbackReceiver:
    """A web app that keeps every status callback posted to it, with its signature's verdict."""

    def __init__(self, auth_token: str) -> None:
        self.received: list[dict[str, str]] = []
        app = Flask(__name__)

        @app.post("/sms-status")
        def sms_status() -> tuple[str, int]:
            form = request.form.to_dict()
            form["_signed"] = str(is_valid_signature(
                auth_token, request.url, request.form, request.headers.get("X-Twilio-Signature")))
            self.received.append(form)
            return "", 204

        self.server = LiveServer().serve(app)
        self.url = f"{self.server.url}/sms-status"


@pytest.fixture
def receiver(sandbox) -> Iterator[CallbackReceiver]:
    receiver = CallbackReceiver(sandbox.auth_token)
    yield receiver
    receiver.server.stop()


@pytest.fixture
def twilio(sandbox) -> Client:
    """The official client as is: the gateway always sends From, Twilio allows the service
    alone."""
    return Client(sandbox.account_sid, sandbox.auth_token,
                  http_client=GatewayHttpClient(base_url=sandbox.url), environment={})


@pytest.fixture
def gateway(sandbox) -> TwilioGateway:
    sandbox.create_messaging_service(SERVICE)
    return TwilioGateway(sandbox.account_sid, sandbox.auth_token, base_url=sandbox.url)


def buy(gateway: TwilioGateway, **search) -> tuple[str, str]:
    found = gateway.search_available(sms=True, limit=1, **search)[0]
    bought = gateway.purchase(phone_number=found.phone_number, friendly_name="shop",
                              webhooks=WebhookConfig())
    return bought.sid, bought.phone_number


def text(gateway: TwilioGateway, from_: str, receiver: CallbackReceiver, **extra) -> str:
    return gateway.send_sms(to=CUSTOMER, from_=from_, body="See you tomorrow at 10",
                            status_callback=receiver.url, **extra).sid


def test_local_number_outside_any_service_is_filtered_with_30034(sandbox, gateway, receiver):
    _, local = buy(gateway, area_code="312")
    sandbox.set_control(carrier_filtering=True)
    sid = text(gateway, local, receiver)

    [report] = sandbox.deliver_messages()

    assert (report["sid"], report["status"], report["error_code"]) == (sid, "undelivered", 30034)
    assert [c["http_status"] for c in report["callbacks"]] == [204, 204]
    sent, final = receiver.received
    assert (sent["MessageStatus"], "ErrorCode" in sent) == ("sent", False)
    assert (final["MessageSid"], final["MessageStatus"], final["ErrorCode"]) == (
        sid, "undelivered", "30034")
    assert final["From"] == local and final["To"] == CUSTOMER
    assert {sent["_signed"], final["_signed"]} == {"True"}
    [stored] = sandbox.messages()
    assert (stored["status"], stored["error_code"]) == ("undelivered", 30034)
    assert stored["date_sent"] is not None


def test_numbers_in_a_service_and_toll_free_numbers_are_delivered(sandbox, gateway, receiver):
    in_service_sid, in_service = buy(gateway, area_code="312")
    gateway.add_to_messaging_service(SERVICE, in_service_sid)
    _, toll_free = buy(gateway, number_type="toll_free")
    sandbox.set_control(carrier_filtering=True)
    text(gateway, in_service, receiver)
    text(gateway, toll_free, receiver)

    reports = sandbox.deliver_messages()

    assert [(r["from"], r["status"], r["error_code"]) for r in reports] == [
        (in_service, "delivered", None), (toll_free, "delivered", None)]
    assert [c["MessageStatus"] for c in receiver.received] == ["sent", "delivered"] * 2
    assert not any("ErrorCode" in c for c in receiver.received)


def test_without_carrier_filtering_every_text_is_delivered(sandbox, gateway, receiver):
    _, local = buy(gateway, area_code="312")
    text(gateway, local, receiver)
    [report] = sandbox.deliver_messages()
    assert report["status"] == "delivered"
    assert sandbox.deliver_messages() == []  # each text is delivered once


def test_a_text_through_a_service_is_accepted_and_carries_the_service(sandbox, gateway,
                                                                      receiver):
    number_sid, number = buy(gateway, area_code="312")
    gateway.add_to_messaging_service(SERVICE, number_sid)
    sandbox.set_control(carrier_filtering=True)

    sent = gateway.send_sms(to=CUSTOMER, from_=number, body="hi", status_callback=receiver.url,
                            messaging_service_sid=SERVICE)

    assert sent.status == "accepted" and sent.from_ == number
    [stored] = sandbox.messages()
    assert stored["messaging_service_sid"] == SERVICE
    sandbox.deliver_messages()
    assert {c["MessagingServiceSid"] for c in receiver.received} == {SERVICE}
    assert receiver.received[-1]["MessageStatus"] == "delivered"


def test_the_service_does_not_register_a_from_number_outside_it(sandbox, gateway, receiver):
    # Twilio only warns (21711) and sends from that number, which carriers then filter.
    _, outside = buy(gateway, area_code="312")
    sandbox.set_control(carrier_filtering=True)
    text(gateway, outside, receiver, messaging_service_sid=SERVICE)
    [report] = sandbox.deliver_messages()
    assert (report["status"], report["error_code"]) == ("undelivered", 30034)


@pytest.mark.parametrize(
    ("service", "code"),
    [(SERVICE, 21704), ("MG" + "cd" * 16, 21705), ("MG123", 21705)],
)
def test_a_service_with_no_numbers_or_unknown_cannot_send_without_from(gateway, twilio,
                                                                        service, code):
    with pytest.raises(TwilioRestException) as failure:
        twilio.messages.create(to=CUSTOMER, messaging_service_sid=service, body="hi")
    assert (failure.value.status, failure.value.code) == (400, code)


def test_a_service_alone_sends_from_a_number_in_its_pool(gateway, twilio):
    number_sid, number = buy(gateway, area_code="312")
    gateway.add_to_messaging_service(SERVICE, number_sid)
    sent = twilio.messages.create(to=CUSTOMER, messaging_service_sid=SERVICE, body="x")
    assert sent.from_ == number


def test_control_settings_refuse_unknown_keys_and_non_booleans(sandbox):
    for body in ({"carrier_filter": True}, {"carrier_filtering": "yes"}, ["x"]):
        answer = requests.post(f"{sandbox.url}/sandbox/control", json=body, timeout=5)
        assert answer.status_code == 400
        assert answer.headers["Content-Type"] == "application/problem+json"
    assert sandbox.set_control(carrier_filtering=True) == {"carrier_filtering": True}
    sandbox.reset()
    assert requests.get(f"{sandbox.url}/sandbox/control", timeout=5).json() == {
        "control": {"carrier_filtering": False}}


def test_unknown_service_sid_for_a_text_is_refused_before_anything_is_sent(sandbox, gateway):
    _, number = buy(gateway, area_code="312")
    with pytest.raises(PermanentTelephonyError) as failure:
        gateway.send_sms(to=CUSTOMER, from_=number, body="x",
                         messaging_service_sid="MG" + "cd" * 16)
    assert failure.value.twilio_code == 21705
    assert sandbox.messages() == []
