"""Gateway wiring: Flask init_app/get_gateway, base-URL rewriting, request counts, fork safety."""

from __future__ import annotations

import os

import pytest
from flask import Flask

from ringly.telephony import TwilioGateway, WebhookConfig, get_gateway, init_app
from ringly.telephony.http_client import GatewayHttpClient
from tests.sandbox.recording import RecordingHttpClient


def test_init_app_builds_one_gateway_from_config(sandbox):
    app = Flask(__name__)
    app.config.update(
        TWILIO_ACCOUNT_SID=sandbox.account_sid,
        TWILIO_AUTH_TOKEN=sandbox.auth_token,
        TWILIO_API_BASE_URL=sandbox.url,
        TWILIO_READ_TIMEOUT=4,
    )
    init_app(app)
    with app.app_context():
        gateway = get_gateway()
        assert gateway is app.extensions["telephony"]
        assert gateway.http_client.timeout == (3.05, 4.0)
        assert gateway.search_available(area_code="617", limit=1)


def test_only_twilio_hosts_are_rewritten_to_the_base_url():
    client = GatewayHttpClient(base_url="http://127.0.0.1:9/")
    assert (
        client.rewrite_url("https://api.twilio.com/2010-04-01/Accounts/AC1/X.json?a=1")
        == "http://127.0.0.1:9/2010-04-01/Accounts/AC1/X.json?a=1"
    )
    # The Messaging API (Services/…/PhoneNumbers) lives on its own host; it goes there too.
    assert (
        client.rewrite_url("https://messaging.twilio.com/v1/Services/MG1/PhoneNumbers?Page=0")
        == "http://127.0.0.1:9/v1/Services/MG1/PhoneNumbers?Page=0"
    )
    assert client.rewrite_url("https://example.com/x") == "https://example.com/x"
    assert GatewayHttpClient().rewrite_url("https://api.twilio.com/x") == "https://api.twilio.com/x"


def test_each_single_resource_operation_costs_exactly_one_request(sandbox):
    recorder = RecordingHttpClient(base_url=sandbox.url)
    gateway = TwilioGateway(sandbox.account_sid, sandbox.auth_token, http_client=recorder)
    webhooks = WebhookConfig(voice_url="https://ringly.example/v")
    gateway.search_available(area_code="202", limit=3)
    number = gateway.purchase(area_code="718", friendly_name="one", webhooks=webhooks)
    gateway.fetch_number(number.sid)
    gateway.update_webhooks(number.sid, webhooks)
    gateway.find_numbers(friendly_name="one")
    gateway.release(number.sid)
    assert [e.method for e in recorder.exchanges] == ["GET", "POST", "GET", "POST", "GET", "DELETE"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_gateway_used_before_fork_still_works_in_the_child(sandbox):
    gateway = TwilioGateway(sandbox.account_sid, sandbox.auth_token, base_url=sandbox.url)
    gateway.search_available(area_code="415", limit=1)
    parent_session = gateway.http_client.session
    pid = os.fork()
    if pid == 0:  # child: must open its own connections, not reuse the parent's sockets
        ok = False
        try:
            ok = bool(gateway.search_available(area_code="415", limit=1))
            ok = ok and gateway.http_client.session is not parent_session
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_messaging_service_operations_cost_one_request_each(sandbox):
    service = sandbox.create_messaging_service()["sid"]
    recorder = RecordingHttpClient(base_url=sandbox.url)
    gateway = TwilioGateway(sandbox.account_sid, sandbox.auth_token, http_client=recorder)
    number = gateway.purchase(area_code="718", friendly_name="one", webhooks=WebhookConfig())
    recorder.exchanges.clear()
    gateway.add_to_messaging_service(service, number.sid)
    gateway.list_messaging_service_numbers(service)
    gateway.remove_from_messaging_service(service, number.sid)
    gateway.send_sms(to="+17185550100", from_=number.phone_number, body="hi",
                     messaging_service_sid=service)
    assert [(e.method, e.path.split("/")[-1]) for e in recorder.exchanges] == [
        ("POST", "PhoneNumbers"), ("GET", "PhoneNumbers"), ("DELETE", number.sid),
        ("POST", "Messages.json")]
    assert [m["messaging_service_sid"] for m in sandbox.messages()] == [service]
