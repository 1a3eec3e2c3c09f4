"""`make load`: a mixed load on web (gunicorn), worker and beat, with PostgreSQL and Redis each
restarted once mid-run; prints error rates, p99 per route, memory and the work accounting.

Everything runs on loopback and is private to the run: a PostgreSQL cluster of its own
(initdb + pg_ctl on a free port; the shared 5432 server is never restarted), a redis-server of
its own (the broker and the rate-limit store), the sandbox as a process, and gunicorn, a Celery
worker and beat as real processes. The per-key rate limits are raised so the load measures the
service, not the limiter. Bounded in time: the load, then at most --drain-seconds for the
sweeps to finish what the restarts interrupted. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402
import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench import soak_checks  # noqa: E402
from bench.soak_report import print_report  # noqa: E402
from bench.soak_traffic import Traffic  # noqa: E402
from ringly import create_app  # noqa: E402
from ringly.admin.scopes import SCOPES  # noqa: E402
from ringly.admin.services import create_api_key  # noqa: E402
from ringly.clients.models import WEEKDAYS, Client  # noqa: E402
from ringly.db import db  # noqa: E402
from ringly.sandbox import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN  # noqa: E402
from tests.support.private_services import PrivatePostgres, PrivateRedis  # noqa: E402
from tests.support.web import WebProcess  # noqa: E402
from tests.support.worker import WorkerProcess  # noqa: E402
from tests.support.wsgi_server import free_port  # noqa: E402

UNLIMITED = "1000000/minute"
EVERY_DAY = {day: [["09:00", "17:00"]] for day in WEEKDAYS}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float,
                        default=float(os.environ.get("LOAD_SECONDS") or 75),
                        help="length of the load (LOAD_SECONDS; default 75)")
    parser.add_argument("--warmup-seconds", type=float, default=10.0,
                        help="the same mix before the measured run, so every code path is loaded "
                             "before the start's memory is read")
    parser.add_argument("--outage-seconds", type=float, default=6.0,
                        help="how long PostgreSQL, then Redis, stays down")
    parser.add_argument("--pg-stop-mode", choices=("fast", "immediate"), default="fast",
                        help="fast: a restart; immediate: a crash (the log is replayed)")
    parser.add_argument("--drain-seconds", type=float, default=240.0)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--call-clients", type=int, default=4,
                        help="clients provisioned before the load, whose numbers are called")
    for name, rate in (("provision", 1.0), ("poll", 4.0), ("jobs", 1.0), ("clients", 1.0),
                       ("records", 2.0), ("search", 0.5), ("call", 0.4)):
        parser.add_argument(f"--{name}-rate", type=float, default=rate,
                            help=f"{name} requests per second (default {rate})")
    return parser.parse_args()


def service_env(workdir: Path, pg: PrivatePostgres, redis: PrivateRedis, sandbox_url: str,
                web_url: str) -> dict[str, str]:
    empty_env_file = workdir / "empty.env"
    empty_env_file.touch()
    return {
        # An empty environment file, so a developer's .env cannot point a process elsewhere.
        "RINGLY_ENV_FILE": str(empty_env_file),
        "RINGLY_INSTANCE_PATH": str(workdir / "instance"),
        "DATABASE_URL": pg.url, "CELERY_BROKER_URL": redis.url,
        "CELERY_QUEUE": f"ringly-load-{uuid.uuid4().hex[:8]}",
        "TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": DEFAULT_AUTH_TOKEN,
        "TWILIO_API_BASE_URL": sandbox_url, "WEBHOOK_BASE_URL": web_url,
        "SECRET_KEY": "load-" + uuid.uuid4().hex, "LOG_LEVEL": "WARNING",
        **{f"RATE_LIMIT_{group}": UNLIMITED for group in ("PROVISION", "SEARCH", "READ", "WRITE")},
        "PURCHASES_PER_HOUR_LIMIT": "100000", "NUMBERS_TOTAL_LIMIT": "100000",
        # The sweeps pick up what a restart interrupted sooner than the defaults (120 s, 60 s),
        # so the drain after the load stays short; beat still runs them on its own schedule.
        "PROVISIONING_STALE_AFTER": "20", "TEXT_OUTBOX_SWEEP_AFTER": "15",
    }


def start_sandbox(workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = open(workdir / "sandbox.log", "ab")  # noqa: SIM115 - the child process owns it
    process = subprocess.Popen([sys.executable, "-m", "ringly.sandbox", "--port", str(port)],
                               cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/sandbox/faults", timeout=2).raise_for_status()
            return process, url
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError("the sandbox did not start")


def start_beat(env: dict[str, str], workdir: Path) -> subprocess.Popen:
    log = open(workdir / "beat.log", "ab")  # noqa: SIM115 - the child process owns it
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "worker", "beat", "-l", "INFO",
         "-s", str(workdir / "celerybeat-schedule")],
        cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    log.close()
    return process


def stop_group(process: subprocess.Popen | None, grace: float = 20.0) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def prepare_call_clients(app, traffic: Traffic, count: int) -> tuple[list[int], list[str]]:
    """Provision `count` clients before the load and open them every day with room for many
    callers per slot, so each simulated call can book what it asks for."""
    for _ in range(count):
        traffic.provision()
    deadline = time.monotonic() + 180
    while soak_checks.pending_work(app)[0] and time.monotonic() < deadline:
        time.sleep(1)
    with app.app_context():
        clients = list(db.session.scalars(sa.select(Client).where(
            Client.ringlypro_number.is_not(None)).order_by(Client.id)))
        ids, numbers = [c.id for c in clients], [c.ringlypro_number for c in clients]
        db.session.remove()
    for client_id in ids:
        traffic.request("PATCH /api/clients/{id}", "PATCH", f"/api/clients/{client_id}",
                        json={"business_hours": EVERY_DAY, "max_per_slot": 50})
    return ids, numbers


def restarts(pg: PrivatePostgres, redis: PrivateRedis, options: argparse.Namespace,
             traffic: Traffic, windows: list[tuple[str, float, float]]) -> None:
    """PostgreSQL down at a quarter of the run, Redis at three fifths, each for a few seconds."""
    plan = [(options.seconds * 0.25, "PostgreSQL"), (options.seconds * 0.6, "Redis")]
    for at, name in plan:
        time.sleep(max(0.0, at - traffic.now()))
        down = traffic.now()
        if name == "PostgreSQL":
            pg.stop(options.pg_stop_mode)
            time.sleep(options.outage_seconds)
            pg.start()
        else:
            redis.stop()  # killed, not persistent: the tasks it held are lost with it
            time.sleep(options.outage_seconds)
            redis.start()
        windows.append((name, down, traffic.now()))


def main() -> None:
    options = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ringly-load-"))
    pg = PrivatePostgres().create()
    redis = PrivateRedis(workdir)
    redis.start()
    sandbox = web = worker = beat = None
    try:
        sandbox, sandbox_url = start_sandbox(workdir)
        web = WebProcess(workdir / "web.log")
        env = service_env(workdir, pg, redis, sandbox_url, web.url)
        app = create_app({"ENVIRON": env, "INSTANCE_PATH": env["RINGLY_INSTANCE_PATH"]})
        with app.app_context():
            flask_migrate.upgrade()
            _, api_key = create_api_key("load", scopes=SCOPES)
            db.session.remove()
        web.start({**env, "WEB_CONCURRENCY": str(options.web_workers),
                   "GUNICORN_THREADS": str(options.web_threads)})
        worker = WorkerProcess(env, workdir / "worker.log",
                               concurrency=options.worker_concurrency).start(timeout=90)
        beat = start_beat(env, workdir)
        traffic = Traffic(web.url, sandbox_url, api_key, [], [])
        traffic.t0 = time.monotonic()
        ids, numbers = prepare_call_clients(app, traffic, options.call_clients)
        traffic.call_clients, traffic.call_numbers = ids, numbers
        rates = {name: getattr(options, f"{name}_rate") for name in
                 ("provision", "poll", "jobs", "clients", "records", "search", "call")}
        traffic.run(rates, options.warmup_seconds)
        soak_checks.drain(app, options.drain_seconds)
        traffic.reset()
        parents = {"web": web.process.pid, "worker": worker.process.pid, "beat": beat.pid}
        memory_start = soak_checks.memory(parents)
        load_at_start = soak_checks.environment_note()
        windows: list[tuple[str, float, float]] = []
        t0 = time.monotonic()
        traffic.t0 = t0
        restarter = threading.Thread(target=restarts,
                                     args=(pg, redis, options, traffic, windows))
        restarter.start()
        traffic.run(rates, options.seconds, t0=t0)
        restarter.join()
        load_seconds = traffic.now()
        drained_in, left = soak_checks.drain(app, options.drain_seconds)
        memory_end = soak_checks.memory(parents)
        accounting = soak_checks.account(app, sandbox_url, traffic.accepted_jobs, traffic.calls)
        accounting["handovers_lost"] = soak_checks.handovers_lost(
            [workdir / "web.log", workdir / "worker.log"])
        print_report(options=options, traffic=traffic, windows=windows,
                     load_seconds=load_seconds, drained_in=drained_in, left=left,
                     memory_start=memory_start, memory_end=memory_end,
                     accounting=accounting, machine=(load_at_start,
                                                     soak_checks.environment_note()),
                     alive=soak_checks.processes_alive(parents))
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        for process in (beat, sandbox):
            stop_group(process)
        if worker is not None:
            worker.stop()
        if web is not None:
            web.stop()
        redis.stop()
        pg.destroy()
        print(f"logs: {workdir}")


if __name__ == "__main__":
    main()
