"""Logs carry no secret and no caller's full number, whichever library writes the line."""
from __future__ import annotations

import logging

import pytest
import requests
import sqlalchemy as sa

from ringly import create_app, logs
from ringly.db import db
from ringly.messaging import outbound
from ringly.messaging.models import Message
from ringly.provisioning import saga
from ringly.provisioning.candidates import forget_pools

CALLER = "+13125550142"
BOOKING = [{"digits": "1"}, {"digits": "1"}, {"speech": "Maria Lopez"}, {"digits": "1"},
           {"speech": "tomorrow at 10 am"}, {"digits": "1"}]


def _everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    """Each line as a handler would write it (with tracebacks), and each record's message."""
    return caplog.text + "\n".join(record.getMessage() for record in caplog.records)


def _assert_clean(text: str, app, api_key: str) -> None:
    assert app.config["TWILIO_AUTH_TOKEN"] not in text
    assert api_key not in text
    for shown in (CALLER, "%2B" + CALLER[1:], CALLER[2:]):
        assert shown not in text, f"the caller's full number is in the log as {shown}"


@pytest.mark.e2e
def test_a_provision_and_a_booking_call_log_no_secret_and_no_callers_number(
        app, client, api_key, api_headers, sandbox, caplog):
    # As production runs: every logger at the configured level (INFO).
    caplog.set_level(logging.INFO)
    with app.app_context():
        forget_pools()
    response = client.post("/api/clients/provision", headers=api_headers, json={
        "business_name": "Bella Salon", "email": "owner@bella.example", "areaCode": "415"})
    assert response.status_code == 202, response.json
    with app.app_context():
        # The worker's step, in this process so its log lines are captured too.
        job_id = response.headers["Location"].rsplit("/", 1)[-1]
        assert saga.advance(job_id) == "completed"
        db.session.remove()
    [number] = sandbox.owned_numbers()
    call = requests.post(f"{sandbox.url}/sandbox/calls", timeout=60, json={
        "to": number["phone_number"], "from": CALLER, "inputs": BOOKING}).json()
    assert "You're booked for" in " ".join(call["heard"]), call
    with app.app_context():
        text_id = db.session.scalar(sa.select(Message.id).where(Message.to_number == CALLER))
        db.session.remove()
    # The confirmation text's first answer is lost, so the retry looks the caller's number up
    # at Twilio (the twilio library logs such a request's query at INFO).
    sandbox.set_faults(rate_drop=1.0, only=["message"])
    with app.app_context(), pytest.raises(outbound.SendLater):
        outbound.send_message(text_id)
    sandbox.clear_faults()
    with app.app_context():
        outbound.send_message(text_id)
        assert db.session.get(Message, text_id).status == "sent"
        db.session.remove()
    assert caplog.records, "nothing was logged at all"
    _assert_clean(_everything_logged(caplog), app, api_key)


def test_numbers_in_log_lines_keep_only_their_last_four_digits(app, caplog):
    caplog.set_level(logging.INFO)
    logging.getLogger("ringly.voice.services").info("call from %s to %s", CALLER, "+14155550100")
    logging.getLogger("ringly").warning("looked up Messages.json?To=%2B13125550142&From=x")
    logging.getLogger("gunicorn.access").info('"GET /api/x?to=+13125550142 HTTP/1.1" 200')
    try:
        raise ValueError(f"Key (to_number)=({CALLER}) already exists")
    except ValueError:
        logging.getLogger("ringly.messaging").exception("could not store a text")
    text = _everything_logged(caplog)
    assert CALLER not in text and "13125550142" not in text
    assert "call from …0142 to …0100" in text and "To=…0142&From" in text
    assert "Key (to_number)=(…0142)" in text


def test_secrets_and_api_keys_never_reach_a_log_line(app, api_key, caplog):
    caplog.set_level(logging.INFO)
    token = app.config["TWILIO_AUTH_TOKEN"]
    logging.getLogger("twilio.http_client").warning("Authorization: %s", token)
    logging.getLogger("ringly.admin").info("a request with Bearer %s", api_key)
    _assert_clean(_everything_logged(caplog), app, api_key)
    assert "[secret]" in caplog.text


def test_the_twilio_librarys_request_lines_are_not_logged_at_info(app, caplog):
    caplog.set_level(logging.INFO)
    logging.getLogger("twilio.http_client").info("Query Params: {'To': '+13125550142'}")
    assert not [record for record in caplog.records if record.name.startswith("twilio")]


def test_at_debug_numbers_are_shown_in_full(service_env, tmp_path, caplog):
    try:
        create_app({"ENVIRON": dict(service_env, LOG_LEVEL="DEBUG"),
                    "INSTANCE_PATH": str(tmp_path)})
        caplog.set_level(logging.DEBUG)
        logging.getLogger("ringly.voice").debug("call from %s", CALLER)
        logging.getLogger("twilio.http_client").info("Query Params: {'To': '%s'}", CALLER)
        assert f"call from {CALLER}" in caplog.text
        assert "Query Params" in caplog.text
        # Secrets stay hidden even then.
        logging.getLogger("ringly").debug("token %s", service_env["TWILIO_AUTH_TOKEN"])
        assert service_env["TWILIO_AUTH_TOKEN"] not in caplog.text
    finally:
        # The rest of the session runs at INFO, as the session's app configured it.
        logs.configure("INFO")
        logging.getLogger("twilio").setLevel(logging.WARNING)
