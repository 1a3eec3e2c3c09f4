"""GET /metrics: Prometheus' text format, behind METRICS_TOKEN, summing what every web and worker
process counted (prometheus-client's multiprocess mode)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import pytest
import requests
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from ringly import create_app, metrics
from ringly.clients.models import Client
from ringly.config import ConfigurationError, load_config
from ringly.db import db
from tests.events.conftest import Receiver, create_endpoint
from tests.support.worker import WorkerProcess
from tests.support.wsgi_server import free_port
from tests.voice.conftest import EVERY_DAY

TOKEN = "metrics-" + uuid.uuid4().hex
BODY = {"business_name": "Bella Salon", "email": "owner@bella.example", "areaCode": "415"}
CALLER = "+13125550142"
BOOKING = [{"digits": "1"}, {"digits": "1"}, {"speech": "Maria Lopez"}, {"digits": "1"},
           {"speech": "tomorrow at 10 am"}, {"digits": "1"}]

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _samples(families: Iterable) -> Samples:
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in families for sample in family.samples}


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _scrape(client) -> Samples:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.data[:300]
    assert response.headers["Content-Type"].startswith("text/plain")
    return _samples(text_string_to_metric_families(response.get_data(as_text=True)))


def _files(of_this_process: bool) -> list[str]:
    own = f"_{os.getpid()}"
    return [str(path) for path in Path(metrics.directory()).glob("*.db")
            if path.stem.endswith(own) == of_this_process]


def _counted_by(of_this_process: bool) -> Samples:
    """The counters of this process alone (web: the test app and its live server), or of every
    other process (the worker's pool) alone, read from their files."""
    return _samples(MultiProcessCollector.merge(_files(of_this_process)))


@pytest.fixture
def token(app, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    return TOKEN


def test_metrics_answers_only_the_bearer_metrics_token(app, client, token):
    assert client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    for authorization in (None, "Bearer wrong-token-of-some-length", f"Basic {token}", token):
        headers = {"Authorization": authorization} if authorization else {}
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401, authorization
        assert refused.mimetype == "application/problem+json"
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")


def test_without_a_token_metrics_is_not_found_outside_the_embedded_default(app, client):
    assert not app.config["METRICS_TOKEN"]
    answer = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert answer.status_code == 404 and answer.mimetype == "application/problem+json"


def test_on_the_embedded_default_metrics_is_open_on_loopback_only(tmp_path):
    embedded = create_app({"ENVIRON": {}, "INSTANCE_PATH": str(tmp_path)})
    assert embedded.config["EMBEDDED"] and not embedded.config["METRICS_TOKEN"]
    http = embedded.test_client()
    for loopback in ("127.0.0.1", "::1"):
        assert http.get("/metrics", environ_base={"REMOTE_ADDR": loopback}).status_code == 200
    assert http.get("/metrics", environ_base={"REMOTE_ADDR": "192.168.1.20"}).status_code == 404


def test_a_short_metrics_token_stops_start_up(tmp_path):
    with pytest.raises(ConfigurationError, match="METRICS_TOKEN"):
        load_config(str(tmp_path), {"METRICS_TOKEN": "short"})


def test_requests_are_counted_by_url_rule_not_by_path(client, api_headers, token):
    job_id = str(uuid.uuid4())
    before = _scrape(client)
    assert client.get(f"/api/provisioning-jobs/{job_id}", headers=api_headers).status_code == 404
    after = _scrape(client)
    labels = {"route": "/api/provisioning-jobs/<job_id>", "method": "GET", "status": "404"}
    assert _value(after, "ringly_http_requests_total", **labels) == \
        _value(before, "ringly_http_requests_total", **labels) + 1
    assert _value(after, "ringly_http_request_duration_seconds_count", route=labels["route"],
                  method="GET") > 0
    assert not any(job_id in str(labels) for _, labels in after)


def test_stale_files_go_and_a_live_processs_stay(tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    dead, alive = int(finished.stdout), os.getpid()
    for pid in (dead, alive):
        (tmp_path / f"counter_{pid}.db").write_bytes(b"")
    assert metrics.remove_stale_files(tmp_path) == 1
    assert [path.name for path in tmp_path.iterdir()] == [f"counter_{alive}.db"]


def _provision(client, headers) -> dict:
    response = client.post("/api/clients/provision", json=BODY, headers=headers)
    assert response.status_code == 202, response.get_json()
    job_id = response.get_json()["job"]["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = client.get(f"/api/provisioning-jobs/{job_id}", headers=headers).get_json()
        if job["status"] in ("completed", "failed"):
            assert job["status"] == "completed", job
            return job["result"]["client"]
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not end")


def _wait_for(client, condition, what: str, timeout: float = 60.0) -> Samples:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        samples = _scrape(client)
        if condition(samples):
            return samples
        time.sleep(0.3)
    raise AssertionError(f"/metrics never showed {what}")


@pytest.mark.e2e
def test_counters_move_from_the_web_and_the_worker_processes_alike(
        app, client, api_headers, sandbox, celery_worker, token):
    receiver = Receiver().start()
    try:
        create_endpoint(client, api_headers, receiver.url, ["number.provisioned"])
        before, web_before, worker_before = _scrape(client), _counted_by(True), _counted_by(False)

        customer = _provision(client, api_headers)  # bought by the worker
        with app.app_context():
            booked = db.session.get(Client, customer["id"])
            booked.timezone, booked.business_hours = "America/Chicago", EVERY_DAY
            db.session.commit()
            db.session.remove()
        call = requests.post(f"{sandbox.url}/sandbox/calls", timeout=60, json={
            "to": customer["ringlypro_number"], "from": CALLER, "inputs": BOOKING}).json()
        assert "You're booked for" in " | ".join(call["heard"]), call

        def moved(samples: Samples, name: str, **labels: str) -> float:
            return _value(samples, name, **labels) - _value(before, name, **labels)

        # The confirmation text and the event are the worker's, after the call and the job.
        after = _wait_for(client, lambda s: moved(s, "ringly_texts_total", outcome="sent",
                                                  reason="") >= 1
                          and moved(s, "ringly_event_deliveries_total", outcome="delivered") >= 1,
                          "the worker's text and event delivery", timeout=60)
    finally:
        receiver.stop()

    # What /metrics answers: every process's counts summed.
    assert moved(after, "ringly_http_requests_total", route="/api/clients/provision",
                 method="POST", status="202") == 1
    assert moved(after, "ringly_provisioning_job_moves_total", state="completed") == 1
    assert moved(after, "ringly_numbers_total", change="bought") == 1
    assert moved(after, "ringly_twilio_requests_total", operation="purchase_number",
                 outcome="ok") == 1
    # Two calls came in: the job's check of its voice URL, and the caller's.
    assert moved(after, "ringly_webhook_turns_total", step="entry") == 2
    turns_taken = sum(value for (name, _), value in after.items()
                      if name == "ringly_webhook_turns_total") - sum(
        value for (name, _), value in before.items() if name == "ringly_webhook_turns_total")
    assert turns_taken >= 2 + len(BOOKING)  # the entries, then a turn per answer at least
    assert moved(after, "ringly_http_requests_total", route="/voice/rachel/", method="POST",
                 status="200") == 2
    assert _value(after, "ringly_tts_breaker_open") == 0.0

    # And who counted what: the purchase and the text in the worker's files, the webhooks and
    # API requests in this process's (the app behind the live server).
    web, worker = _counted_by(True), _counted_by(False)
    for name, labels in (("ringly_numbers_total", {"change": "bought"}),
                         ("ringly_texts_total", {"outcome": "sent", "reason": ""}),
                         ("ringly_event_deliveries_total", {"outcome": "delivered"})):
        assert _value(worker, name, **labels) - _value(worker_before, name, **labels) >= 1, name
        assert _value(web, name, **labels) == _value(web_before, name, **labels), name
    turns = {"step": "entry"}
    assert _value(web, "ringly_webhook_turns_total", **turns) - \
        _value(web_before, "ringly_webhook_turns_total", **turns) == 2
    assert _value(worker, "ringly_webhook_turns_total", **turns) == \
        _value(worker_before, "ringly_webhook_turns_total", **turns)


@pytest.mark.e2e
def test_a_worker_host_serves_its_own_metrics_on_worker_metrics_port(service_env, tmp_path):
    # A worker host with no web process: its own folder, its own port, the same token.
    port = free_port()
    worker = WorkerProcess({**service_env, "CELERY_QUEUE": f"metrics-{uuid.uuid4().hex[:8]}",
                            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
                            "WORKER_METRICS_PORT": str(port), "METRICS_TOKEN": TOKEN},
                           tmp_path / "worker.log", concurrency=1).start()
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        assert requests.get(url, timeout=10).status_code == 401
        assert requests.get(url, timeout=10,
                            headers={"Authorization": "Bearer not-the-token"}).status_code == 401
        answer = requests.get(url, timeout=10, headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 200, worker.log_tail()
        list(text_string_to_metric_families(answer.text))  # Prometheus' format
        assert requests.get(url.replace("/metrics", "/other"), timeout=10).status_code == 404
    finally:
        worker.stop()


def test_without_a_token_the_workers_metrics_listen_on_loopback_only():
    server = metrics.serve_worker_metrics(0, None)
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        answer = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert answer.status_code == 200
        list(text_string_to_metric_families(answer.text))
    finally:
        server.shutdown()
        server.server_close()
