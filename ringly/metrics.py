"""Prometheus metrics: counters every web and worker process of a host writes into one folder,
and `GET /metrics`, which sums them (prometheus-client's multiprocess mode).

Domains call the `count_*` functions (one counter increment each; nothing here imports a
domain). The folder is PROMETHEUS_MULTIPROC_DIR; each process writes files named after its pid,
and a process that starts a group (gunicorn's master, a Celery worker, `make run`) first removes
the files of processes that are no longer running, never those of a live one.
"""
from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from celery.signals import worker_init, worker_process_shutdown, worker_ready
from flask import Blueprint, Flask, Response, abort, current_app, g, request, request_started
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from ringly.errors import Unauthorized

log = logging.getLogger(__name__)
bp = Blueprint("metrics", __name__)

LOOPBACK = frozenset({"127.0.0.1", "::1"})
# Seconds; Twilio gives a webhook 15 s in all, so nothing slower matters.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)
UNMATCHED_ROUTE = "unmatched"


class _Metrics:
    """The counters, made once per process after the folder is chosen (see `use_directory`)."""

    def __init__(self) -> None:
        def counter(name: str, documentation: str, labels: tuple[str, ...]) -> Counter:
            # registry=None: /metrics reads the files, never a registry of this process.
            return Counter(name, documentation, labels, registry=None)

        self.http_requests = counter(
            "ringly_http_requests", "HTTP requests answered, by route (the URL rule), method "
            "and status", ("route", "method", "status"))
        self.http_latency = Histogram(
            "ringly_http_request_duration_seconds", "Seconds to answer an HTTP request, by "
            "route and method", ("route", "method"), buckets=LATENCY_BUCKETS, registry=None)
        self.webhook_turns = counter(
            "ringly_webhook_turns", "Voice webhook turns answered, by the step the call was "
            "in (entry: the call's first request)", ("step",))
        self.job_moves = counter(
            "ringly_provisioning_job_moves", "Provisioning jobs moved into each state (a "
            "retried job enters searching again)", ("state",))
        self.job_failures = counter(
            "ringly_provisioning_job_failures", "Provisioning jobs failed, by failure code",
            ("code",))
        self.twilio_requests = counter(
            "ringly_twilio_requests", "Requests to Twilio's REST API by operation and outcome "
            "(ok, transient, permanent, not_found)", ("operation", "outcome"))
        self.numbers = counter(
            "ringly_numbers", "Numbers bought and released at Twilio", ("change",))
        self.texts = counter(
            "ringly_texts", "Outbound texts sent, refused by the policy (with its reason) and "
            "failed", ("outcome", "reason"))
        self.tts_renders = counter(
            "ringly_tts_renders", "ElevenLabs renders by outcome", ("outcome",))
        self.tts_lookups = counter(
            "ringly_tts_cache_lookups", "A webhook's looks for a line's rendered audio: hit "
            "(played) or miss (Polly, and the rendering is queued)", ("result",))
        self.event_deliveries = counter(
            "ringly_event_deliveries", "Event delivery attempts by outcome (delivered, "
            "retrying, given_up)", ("outcome",))


_metrics: _Metrics | None = None
_directory: str | None = None
_choosing = threading.Lock()


def use_directory(directory: str) -> str:
    """Write this process's metrics in PROMETHEUS_MULTIPROC_DIR when the environment names one,
    else in `directory`; the first app of a process decides. Returns the folder."""
    global _metrics, _directory
    with _choosing:
        if _directory is not None:
            return _directory
        # In the environment, so that every process this one starts writes in the same folder.
        chosen = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", directory)
        os.makedirs(chosen, exist_ok=True)
        # prometheus-client decides how values are kept when it is imported, from that variable;
        # the folder is a setting known only now, so decide again, before any metric exists.
        if not getattr(values.ValueClass, "_multiprocess", False):
            values.ValueClass = values.MultiProcessValue()
        _metrics, _directory = _Metrics(), chosen
        return chosen


def directory() -> str | None:
    """The folder this process writes its metrics in (None before any app chose one)."""
    return _directory


def remove_stale_files(folder: str | os.PathLike[str]) -> int:
    """Remove the files of processes no longer running (an earlier run's, a dead worker's);
    returns how many. A live process's files are never touched, so any process may call it."""
    removed = 0
    for path in Path(folder).glob("*.db"):
        pid = path.stem.rpartition("_")[2]
        if pid.isdigit() and not _running(int(pid)):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, as another user
    return True


def process_exited(pid: int, folder: str | None = None) -> None:
    """Forget a dead process's live gauges (gunicorn's child_exit hook calls it)."""
    multiprocess.mark_process_dead(pid, folder or os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


# -- what domains count (each one increment, no I/O beyond the process's own mapped file) ---------

# Each labelled child, kept once made: prometheus-client validates and locks on every
# `labels()` call, and the HTTP and webhook counters are bumped on every request.
_children: dict[tuple[Any, tuple[str, ...]], Any] = {}


def _child(metric: Any, *labels: str) -> Any:
    child = _children.get((metric, labels))
    if child is None:
        child = _children.setdefault((metric, labels), metric.labels(*labels))
    return child


def count_webhook_turn(step: str) -> None:
    if _metrics is not None:
        _child(_metrics.webhook_turns, step).inc()


def count_job_move(state: str) -> None:
    if _metrics is not None:
        _metrics.job_moves.labels(state).inc()


def count_job_failure(code: str) -> None:
    if _metrics is not None:
        _metrics.job_failures.labels(code).inc()


def count_twilio_request(operation: str, outcome: str) -> None:
    if _metrics is not None:
        _metrics.twilio_requests.labels(operation, outcome).inc()


def count_number(change: str) -> None:
    """`bought` or `released`."""
    if _metrics is not None:
        _metrics.numbers.labels(change).inc()


def count_text(outcome: str, reason: str = "") -> None:
    """`sent`, `refused` (with the policy's reason code) or `failed`."""
    if _metrics is not None:
        _metrics.texts.labels(outcome, reason).inc()


def count_tts_render(outcome: str) -> None:
    if _metrics is not None:
        _metrics.tts_renders.labels(outcome).inc()


def count_tts_lookup(hit: bool) -> None:
    if _metrics is not None:
        _child(_metrics.tts_lookups, "hit" if hit else "miss").inc()


def count_event_delivery(outcome: str) -> None:
    if _metrics is not None:
        _metrics.event_deliveries.labels(outcome).inc()


# -- state read when /metrics is asked (shared state, such as the ElevenLabs breaker) ------------

StateReader = Callable[[], float]


def watch_state(app: Flask, name: str, documentation: str, read: StateReader) -> None:
    """A gauge read from the shared state itself at each scrape, not kept by any process."""
    app.extensions.setdefault("metrics_states", {})[name] = (documentation, read)


class _StateCollector:
    def __init__(self, states: dict[str, tuple[str, StateReader]]) -> None:
        self.states = states

    def collect(self) -> Iterable[Metric]:
        for name, (documentation, read) in self.states.items():
            try:
                value = float(read())
            except Exception:  # a gauge that cannot be read is left out, the rest still served
                log.warning("could not read the %s gauge", name, exc_info=True)
                continue
            yield GaugeMetricFamily(name, documentation, value=value)


# -- HTTP: every request counted by its URL rule, and GET /metrics --------------------------------

def _start_timer(sender: Flask, **_extra: object) -> None:
    g.ringly_started = time.perf_counter()


def _count_request(response: Response) -> Response:
    if _metrics is not None:
        rule = request.url_rule
        route = rule.rule if rule is not None else UNMATCHED_ROUTE
        _child(_metrics.http_requests, route, request.method, str(response.status_code)).inc()
        started = g.get("ringly_started")
        if started is not None:
            _child(_metrics.http_latency, route, request.method).observe(
                time.perf_counter() - started)
    return response


def bearer_matches(authorization: str | None, token: str) -> bool:
    """Whether an Authorization header is `Bearer <token>`, compared in constant time."""
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              token.encode())


def _allowed() -> None:
    """A bearer METRICS_TOKEN; without one configured, loopback only on the embedded default
    and nowhere else (404: nothing says the route exists)."""
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        if current_app.config.get("EMBEDDED") and request.remote_addr in LOOPBACK:
            return
        abort(404)
    if not bearer_matches(request.headers.get("Authorization"), token):
        raise Unauthorized("GET /metrics needs Authorization: Bearer <METRICS_TOKEN>.")


def exposition(states: dict[str, tuple[str, StateReader]] | None = None) -> bytes:
    """Every process's counters summed, and the watched states, in Prometheus' text format."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=_directory)
    registry.register(_StateCollector(states or {}))
    try:
        return generate_latest(registry)
    except FileNotFoundError:
        # A starting process removed a dead one's file between listing and reading: list again.
        return generate_latest(registry)


@bp.get("/metrics")
def metrics() -> Response:
    _allowed()
    body = exposition(current_app.extensions.get("metrics_states"))
    return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST,
                                   "Cache-Control": "no-store"})


def _worker_starting(**_signal: object) -> None:
    # The Celery worker's main process, before its pool starts: an earlier run's files go.
    if _directory is not None:
        remove_stale_files(_directory)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib's name)
        pass  # a scrape every few seconds is not news


def worker_metrics_app(token: str | None) -> Callable:
    """The Celery worker's own GET /metrics (WORKER_METRICS_PORT): its host's folder, for a
    worker host with no web process to ask. A bearer METRICS_TOKEN when one is set."""

    def answer(environ: dict, start_response: Callable) -> list[bytes]:
        if environ.get("PATH_INFO") != "/metrics" or environ.get("REQUEST_METHOD") != "GET":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        if token and not bearer_matches(environ.get("HTTP_AUTHORIZATION"), token):
            start_response("401 Unauthorized", [("Content-Type", "text/plain"),
                                                ("WWW-Authenticate", 'Bearer realm="ringly"')])
            return [b"GET /metrics needs Authorization: Bearer <METRICS_TOKEN>\n"]
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST),
                                  ("Cache-Control", "no-store")])
        return [exposition()]

    return answer


def serve_worker_metrics(port: int, token: str | None) -> WSGIServer:
    """Serve `worker_metrics_app` on `port` in a thread: on every interface with a token,
    else on loopback only."""
    host = "0.0.0.0" if token else "127.0.0.1"  # noqa: S104 (a token guards it)
    server = make_server(host, port, worker_metrics_app(token), handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("worker metrics on http://%s:%d/metrics", host, server.server_port)
    return server


def _worker_ready(sender: object = None, **_signal: object) -> None:
    flask_app = getattr(getattr(sender, "app", None), "flask_app", None)
    port = flask_app.config.get("WORKER_METRICS_PORT") if flask_app is not None else None
    if port:
        serve_worker_metrics(port, flask_app.config.get("METRICS_TOKEN"))


def _pool_process_exiting(**_signal: object) -> None:
    if _directory is not None:
        process_exited(os.getpid(), _directory)


def init_app(app: Flask) -> None:
    use_directory(app.config["PROMETHEUS_MULTIPROC_DIR"])
    worker_init.connect(_worker_starting, weak=False, dispatch_uid="ringly.metrics.worker_init")
    worker_process_shutdown.connect(_pool_process_exiting, weak=False,
                                    dispatch_uid="ringly.metrics.worker_process_shutdown")
    worker_ready.connect(_worker_ready, weak=False, dispatch_uid="ringly.metrics.worker_ready")
    request_started.connect(_start_timer, app)
    app.after_request(_count_request)
    app.register_blueprint(bp)
