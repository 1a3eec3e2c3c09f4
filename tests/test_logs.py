"""Logs carry no secret and no caller's full number, whichever library writes the line."""
from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import requests
import sqlalchemy as sa
from celery.signals import after_setup_logger

from ringly import create_app, logs
from ringly.clients.models import Client
from ringly.config import ConfigurationError, load_config
from ringly.db import db
from ringly.messaging import outbound
from ringly.messaging.models import Message
from ringly.provisioning import saga
from ringly.provisioning.candidates import forget_pools
from tests.support.web import WebProcess
from tests.voice.conftest import CLIENT_NUMBER, EVERY_DAY, Phone, make_client

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
        # Open every day: "tomorrow" is bookable whatever day the test runs on.
        customer = db.session.scalar(sa.select(Client).where(
            Client.ringlypro_number.is_not(None)).order_by(Client.id.desc()))
        customer.business_hours = EVERY_DAY
        db.session.commit()
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


# -- JSON lines, and what each line is about --------------------------------------------------

@contextmanager
def json_lines() -> Iterator[Callable[[], list[dict]]]:
    """Every line logged meanwhile, as LOG_FORMAT=json writes it, parsed back; the raw text is
    checked for phone numbers as it is written."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)

    def lines() -> list[dict]:
        text = stream.getvalue()
        for shown in (CALLER, "%2B" + CALLER[1:], CLIENT_NUMBER):
            assert shown not in text, f"a full number is in a JSON line as {shown}"
        return [json.loads(line) for line in text.splitlines()]

    try:
        yield lines
    finally:
        root.removeHandler(handler)


def test_a_requests_lines_carry_its_request_id_and_the_answer_echoes_it(service_env, tmp_path):
    probe_app = create_app({"ENVIRON": service_env, "INSTANCE_PATH": str(tmp_path)})
    probe_app.add_url_rule(
        "/log-probe", "log_probe",
        lambda: logging.getLogger("ringly.probe").warning("call from %s", CALLER) or "ok")
    http = probe_app.test_client()
    with json_lines() as lines:
        given = http.get("/log-probe", headers={"X-Request-Id": "trace-42.a_B"})
        forged = http.get("/log-probe", headers={"X-Request-Id": 'x" level="CRITICAL'})
        too_long = http.get("/log-probe", headers={"X-Request-Id": "a" * 129})
        unnamed = http.get("/log-probe")
        logging.getLogger("ringly.probe").warning("between requests")
    probes = [line for line in lines() if line["logger"] == "ringly.probe"]
    assert given.headers["X-Request-Id"] == "trace-42.a_B"
    ids = [answer.headers["X-Request-Id"] for answer in (given, forged, too_long, unnamed)]
    assert [line.get("request_id") for line in probes] == [*ids, None]
    for generated in ids[1:]:
        assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert len(set(ids)) == 4
    assert probes[0]["message"] == "call from …0142" and probes[0]["level"] == "WARNING"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", probes[0]["time"])


def test_a_webhooks_lines_carry_its_call_sid_and_client_id(app, client):
    client_id = make_client(app)
    phone = Phone(client, app, caller=CALLER)
    engine_log = logging.getLogger("sqlalchemy.engine")
    level = engine_log.level
    # Every statement the webhooks run is logged (at INFO): lines before and after the client
    # is known, from a library's logger.
    engine_log.setLevel(logging.INFO)
    try:
        with json_lines() as lines:
            phone.dial_in()
            phone.press("1")
    finally:
        engine_log.setLevel(level)
    statements = [line for line in lines() if line["logger"].startswith("sqlalchemy.engine")]
    assert statements and all(line["call_sid"] == phone.call_sid for line in statements)
    writes = [line for line in statements if line["message"].startswith(("INSERT", "UPDATE"))]
    assert writes and all(line["client_id"] == client_id for line in writes)
    assert any("…0142" in line["message"] for line in statements)  # masked, not left out


def test_a_tasks_lines_carry_its_job_id_and_task_id(app):
    name = f"tests.log_probe_{uuid.uuid4().hex[:6]}"

    @app.extensions["celery"].task(name=name, bind=True)
    def probe(self, job_id: str, note: str) -> None:
        logging.getLogger("ringly.provisioning.saga").warning("advancing %s", note)

    with json_lines() as lines:
        probe.apply(args=("job-7",), kwargs={"note": "now"}, task_id="task-1")
        logging.getLogger("ringly.provisioning.saga").warning("after the task")
    inside, after = [line for line in lines() if line["logger"] == "ringly.provisioning.saga"]
    assert (inside["job_id"], inside["task_id"], inside["task"]) == ("job-7", "task-1", name)
    assert "job_id" not in after and "task_id" not in after


def test_log_format_is_json_outside_the_embedded_default_and_text_keeps_todays_lines(
        service_env, tmp_path):
    assert load_config(str(tmp_path), {})["LOG_FORMAT"] == "text"
    assert load_config(str(tmp_path), service_env)["LOG_FORMAT"] == "json"
    assert load_config(str(tmp_path), {**service_env, "LOG_FORMAT": "text"})["LOG_FORMAT"] == \
        "text"
    with pytest.raises(ConfigurationError, match="LOG_FORMAT"):
        load_config(str(tmp_path), {"LOG_FORMAT": "xml"})
    record = logging.getLogger("ringly.voice").makeRecord(
        "ringly.voice", logging.INFO, __file__, 1, "call from %s", (CALLER,), None)
    line = logs.formatter("text").format(record)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO ringly.voice: "
                        r"call from …0142", line), line
    assert json.loads(logs.formatter("json").format(record))["message"] == "call from …0142"


def test_celerys_own_handlers_take_the_log_format(service_env):
    celery_logger = logging.Logger("celery-like")
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(logging.Formatter("[%(levelname)s/%(processName)s] %(message)s"))
    celery_logger.addHandler(handler)
    try:
        logs.use_format("text")
        after_setup_logger.send(sender=None, logger=celery_logger, loglevel=logging.INFO,
                                logfile=None, format="", colorize=False)
        assert not isinstance(handler.formatter, logs.JsonFormatter)  # Celery's own lines
        logs.use_format("json")
        after_setup_logger.send(sender=None, logger=celery_logger, loglevel=logging.INFO,
                                logfile=None, format="", colorize=False)
        assert isinstance(handler.formatter, logs.JsonFormatter)
    finally:
        logs.use_format("json")  # as the session's app (not on the embedded default) set it


@pytest.mark.e2e
def test_the_worker_and_gunicorn_write_json_lines(app, service_env, celery_worker, tmp_path):
    web = WebProcess(tmp_path / "web.log").start(service_env)
    try:
        answer = requests.get(f"{web.url}/healthz", headers={"X-Request-Id": "from-a-probe"},
                              timeout=10)
        assert answer.headers["X-Request-Id"] == "from-a-probe"
    finally:
        web.stop()

    def json_lines_of(path) -> list[dict]:
        # Celery's start-up banner is printed, not logged; every logged line is JSON.
        return [json.loads(line) for line in path.read_text().splitlines()
                if line.startswith("{")]

    worker_lines = json_lines_of(celery_worker.log_path)
    assert any(line["message"].endswith(" ready.") and line["logger"].startswith("celery")
               for line in worker_lines), celery_worker.log_tail()
    web_lines = json_lines_of(web.log_path)
    assert any(line["logger"] == "ringly" and "Ringly configuration" in line["message"]
               for line in web_lines)
    # Each access line ends with the request's id (the readiness polls' generated ones too).
    access = [line["message"] for line in web_lines if line["logger"] == "gunicorn.access"]
    assert access and all(re.search(r" \S+$", message) for message in access)
    assert [message for message in access if message.endswith(" from-a-probe")]
