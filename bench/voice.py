"""Benchmark: voice webhooks on gunicorn (gunicorn.conf.py) against a bare constant-TwiML app.

For `POST /voice/rachel/` (a new call each request) and one mid-booking step (`book-name`,
a distinct call waiting at that step each request), with signed requests:
  (a) 200 requests/s for 20 s, open loop: p50/p95/p99;
  (b) 50 keep-alive connections as fast as possible: requests/s, the ratio to the bare app and
      the ratio to the read-and-write floor (below), also measured in closed loops that take
      turns with the floor, so that load from elsewhere on the machine weighs on both alike.
Twice: ElevenLabs audio served from the cache, and ElevenLabs failing (every TTS request 500s,
a worker trying to render, the breaker open). Starts its own PostgreSQL database, sandbox,
worker and gunicorn processes and removes them. Prints a table; not a test.

Three baselines under the same gunicorn settings: the constant document; one PostgreSQL insert
and commit first; and the floor of any step that keeps call state in PostgreSQL (read the row,
write it back, raw driver, asynchronous commit). For (b) it also prints the CPU time per request
spent in the gunicorn processes and in PostgreSQL.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench import load  # noqa: E402
from ringly import create_app  # noqa: E402
from ringly.clients.models import WEEKDAYS, Client  # noqa: E402
from ringly.db import db, utcnow  # noqa: E402
from ringly.sandbox.server import SandboxServer  # noqa: E402
from ringly.telephony.signatures import sign_request  # noqa: E402
from ringly.voice.rendering import render_client_prompts  # noqa: E402
from ringly.voice.tts import audio_library  # noqa: E402
from ringly.wording import prompt  # noqa: E402
from tests.support.databases import fresh_postgres_database  # noqa: E402
from tests.support.worker import WorkerProcess  # noqa: E402
from tests.support.wsgi_server import free_port  # noqa: E402

NUMBER = "+13125550100"
NAME = "Maria Lopez"
BIN = Path(sys.executable).parent
FLOOR = "bare + PG read & write floor"



def start_gunicorn(app_path: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
         app_path], cwd=ROOT, env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn {app_path} exited at start")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/voice/bare"
                                        if "bare" in app_path else
                                        f"http://127.0.0.1:{port}/healthz", timeout=2):
                return process
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn {app_path} not ready")


def _database_name(url: str) -> str:
    return sa.engine.make_url(url).database


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)


def signed(port: int, base: str, token: str, path: str, params: dict[str, str]) -> bytes:
    signature = sign_request(token, base + path, params)
    return load.build_request("127.0.0.1", port, path, urlencode(params).encode(),
                              {"X-Twilio-Signature": signature})


def entry_requests(port: int, base: str, token: str, count: int) -> list[bytes]:
    out = []
    for n in range(count):
        params = {"CallSid": "CA" + uuid.uuid4().hex, "AccountSid": "AC" + "5a" * 16,
                  "From": f"+1312{n % 10_000_000:07d}", "To": NUMBER,
                  "CallStatus": "ringing", "Direction": "inbound"}
        out.append(signed(port, base, token, "/voice/rachel/", params))
    return out


def waiting_calls(app, client_id: int, count: int) -> list[str]:
    """Calls that reached the name question (turn 3), inserted in bulk."""
    sids = ["CA" + uuid.uuid4().hex for _ in range(count)]
    now = utcnow()
    with app.app_context():
        db.session.execute(sa.insert(db.metadata.tables["calls"]), [
            {"call_sid": sid, "client_id": client_id, "from_number": "+13125550199",
             "to_number": NUMBER, "direction": "inbound", "status": "in-progress",
             "language": "en", "step": "book-name", "state": {"turn": 3}, "retries": 0,
             "created_at": now, "updated_at": now} for sid in sids])
        db.session.commit()
    return sids


def step_requests(port: int, base: str, token: str, sids: list[str]) -> list[bytes]:
    return [signed(port, base, token, "/voice/rachel/book-name/3", {
        "CallSid": sid, "AccountSid": "AC" + "5a" * 16, "From": "+13125550199", "To": NUMBER,
        "CallStatus": "in-progress", "SpeechResult": NAME, "Confidence": "0.92"})
        for sid in sids]


def cpu_seconds(match) -> float:
    """CPU time (user + system) used so far by the processes whose (pid, command line) match."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            parent = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
        if match(int(entry.name), parent, command):
            # Its own time and that of its exited children (PostgreSQL backends, gunicorn
            # workers), so a process that ends during the run does not take its time along.
            total += sum(int(value) for value in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def server_cpu(gunicorn_pid: int, database: str) -> dict[str, float]:
    """CPU seconds of the gunicorn master and its workers, and of PostgreSQL: the backends
    serving `database` and the server's own processes (WAL writer, checkpointer...), not the
    backends of other databases (a neighbour's test run on a shared machine)."""
    def ours(_: int, __: int, command: str) -> bool:
        return command.startswith("postgres") and (f" {database} " in command
                                                   or "(" not in command)

    return {
        "web": cpu_seconds(lambda pid, parent, _: gunicorn_pid in (pid, parent)),
        "db": cpu_seconds(ours),
    }


@dataclass
class Floor:
    """The floor endpoint, kept serving so other endpoints can be measured against it in turns."""

    port: int
    requests: list[bytes]  # the floor has no replays: its requests can be sent again


def interleaved(port: int, requests: list[bytes], floor: Floor, connections: int,
                seconds: float, rounds: int) -> tuple[float, float, bool]:
    """Closed loops taking turns between the floor and the endpoint, `rounds` slices each of
    `seconds` / `rounds`, so a neighbour's load on the shared machine weighs on both alike.
    Returns (endpoint req/s, floor req/s, whether the endpoint's requests ran out)."""
    chunk = len(requests) // rounds
    totals = {"endpoint": [0, 0.0], "floor": [0, 0.0]}
    ran_out = False
    for turn in range(rounds):
        mine = requests[turn * chunk:(turn + 1) * chunk]
        for name, target, batch in (("floor", floor.port, floor.requests),
                                    ("endpoint", port, mine)):
            burst = load.closed("127.0.0.1", target, batch, connections, seconds / rounds)
            totals[name][0] += len(burst.latencies)
            totals[name][1] += burst.elapsed
            ran_out |= name == "endpoint" and len(burst.latencies) + burst.errors >= len(batch)
    rate = {name: answered / elapsed if elapsed else 0.0
            for name, (answered, elapsed) in totals.items()}
    return rate["endpoint"], rate["floor"], ran_out


def measure(port: int, requests: list[bytes], rate: float, duration: float,
            connections: int, closed_seconds: float, repeats: int,
            gunicorn_pid: int, database: str, floor: Floor | None = None,
            turns: list[bytes] | None = None, rounds: int = 4) -> dict[str, float]:
    """Warm up, `repeats` paced runs (figures: the median run; also the worst p99), then the
    closed loop. Repeats because a checkpoint or a neighbour's test run can spike one run.
    With `floor` and `turns` (requests of their own), also closed loops taking turns with the
    floor (see `interleaved`)."""
    warm = max(200, int(rate))
    load.paced("127.0.0.1", port, requests[:warm], rate, warm / rate)
    position = warm
    runs = []
    for _ in range(repeats):
        count = int(rate * duration)
        outcome = load.paced("127.0.0.1", port, requests[position:position + count], rate,
                             duration)
        position += count
        runs.append(outcome)
    figures = sorted(
        ({f"p{q}": load.percentile(run.latencies, q / 100) * 1000 for q in (50, 95, 99)}
         | {"errors": run.errors} for run in runs), key=lambda row: row["p99"])
    median = figures[len(figures) // 2]
    rest = requests[position:]
    before = server_cpu(gunicorn_pid, database)
    burst = load.closed("127.0.0.1", port, rest, connections, closed_seconds)
    after = server_cpu(gunicorn_pid, database)
    answered = max(1, len(burst.latencies))
    paired = {}
    if floor is not None and turns:
        rps, floor_rps, ran_out = interleaved(port, turns, floor, connections, closed_seconds,
                                              rounds)
        paired = {"paired_ratio": rps / floor_rps if floor_rps else 0.0,
                  "paired_exhausted": ran_out}
    return {
        **median, **paired, "p99_worst": figures[-1]["p99"],
        "paced_errors": sum(row["errors"] for row in figures),
        "rps": len(burst.latencies) / burst.elapsed if burst.elapsed else 0.0,
        "closed_errors": burst.errors,
        "exhausted": len(burst.latencies) + burst.errors >= len(rest),
        # CPU per answered request during (b): where the machine's two cores went.
        "web_cpu_ms": (after["web"] - before["web"]) / answered * 1000,
        "db_cpu_ms": (after["db"] - before["db"]) / answered * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--closed-seconds", type=float, default=10)
    parser.add_argument("--repeats", type=int, default=3, help="paced runs per endpoint")
    parser.add_argument("--closed-budget", type=int, default=30000,
                        help="requests prepared for the closed-loop run")
    parser.add_argument("--modes", default="cached,failing",
                        help="ElevenLabs modes to run, comma-separated (cached, failing)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="turns each of the floor and a webhook in the interleaved closed "
                        "loops (0: skip them)")
    options = parser.parse_args()
    per_run = int(options.rate * options.seconds) * options.repeats + max(200, int(options.rate))
    per_run += options.closed_budget
    results: dict[tuple[str, str], dict[str, float]] = {}
    processes: list[subprocess.Popen] = []
    workdir = Path(tempfile.mkdtemp(prefix="ringly-bench-"))
    with fresh_postgres_database("ringly_bench") as database_url, SandboxServer() as sandbox:
        try:
            bare_port = free_port()
            engine = sa.create_engine(database_url)
            with engine.begin() as connection:
                connection.execute(sa.text("CREATE TABLE bench_bare_calls (id serial PRIMARY KEY,"
                                           " call_sid varchar(34) UNIQUE, state text)"))
                # The calls the floor endpoint reads and writes: one per prepared request.
                connection.execute(sa.text(
                    "INSERT INTO bench_bare_calls (call_sid, state) SELECT 'CA' || n, '{}'"
                    " FROM generate_series(0, :last) AS n"), {"last": per_run})
            engine.dispose()
            processes.append(start_gunicorn("bench.bare_twiml:app", bare_port,
                                            {"DATABASE_URL": database_url}))
            bare_base = f"http://127.0.0.1:{bare_port}"
            for label, path in (("bare constant TwiML", "/voice/bare"),
                                ("bare + 1 PG insert/commit", "/voice/bare-db"),
                                (FLOOR, "/voice/bare-db-floor")):
                bare = [signed(bare_port, bare_base, "t", path, {"CallSid": f"CA{n}"})
                        for n in range(per_run)]
                results[(label, "-")] = measure(
                    bare_port, bare, options.rate, options.seconds, options.connections,
                    options.closed_seconds, options.repeats, processes[-1].pid,
                    _database_name(database_url))
            # The bare app keeps serving (idle but for the floor's turns in the interleaved loops).
            floor = Floor(bare_port, bare[-options.closed_budget:]) if options.rounds else None
            for mode in options.modes.split(","):
                # A database per mode, so one run's dead rows and autovacuum never slow the next.
                with fresh_postgres_database(f"ringly_bench_{mode}") as mode_database_url:
                    results.update(run_mode(mode, options, per_run, mode_database_url, sandbox,
                                            workdir / mode, processes, floor))
        finally:
            for process in processes:
                stop(process)
    print_table(results, options)


def run_mode(mode, options, per_run, database_url, sandbox, workdir, processes, floor):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"DATABASE_URL": database_url, "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
           "CELERY_QUEUE": f"ringly-bench-{uuid.uuid4().hex[:8]}",
           "TWILIO_ACCOUNT_SID": sandbox.account_sid, "TWILIO_AUTH_TOKEN": sandbox.auth_token,
           "TWILIO_API_BASE_URL": sandbox.url, "WEBHOOK_BASE_URL": base,
           "SECRET_KEY": "bench", "ELEVENLABS_API_KEY": "bench-key",
           "ELEVENLABS_API_BASE_URL": sandbox.url, "LOG_LEVEL": "WARNING",
           "AUDIO_CACHE_DIR": str(workdir / f"audio-{mode}")}
    workdir.mkdir(parents=True, exist_ok=True)
    app = create_app({"ENVIRON": env, "INSTANCE_PATH": str(workdir / "instance")})
    with app.app_context():
        flask_migrate.upgrade()
        client = db.session.scalar(sa.select(Client).where(Client.ringlypro_number == NUMBER))
        if client is None:
            client = Client(business_name="Sunrise Dental", email="d@example.com",
                            ringlypro_number=NUMBER, timezone="America/Chicago",
                            business_hours={day: [["09:00", "17:00"]] for day in WEEKDAYS})
            db.session.add(client)
            db.session.commit()
        client_id = client.id
        if mode == "cached":
            render_client_prompts(client_id)
            audio_library().render(prompt("ask_phone", "en", name=NAME), "en")
        else:
            sandbox.set_faults(rate_500=1.0, only=["tts"])
    worker = None
    if mode == "failing":
        worker = WorkerProcess(env, workdir / "worker.log", concurrency=2).start()
    processes.append(start_gunicorn("wsgi:app", port, env))
    token = sandbox.auth_token
    out = {}
    # Requests of their own for the interleaved loops: each is sent once, as everywhere.
    extra = options.closed_budget if floor is not None else 0
    entries = entry_requests(port, base, token, per_run + extra)
    out[("POST /voice/rachel/", mode)] = measure(
        port, entries[:per_run], options.rate, options.seconds, options.connections,
        options.closed_seconds, options.repeats, processes[-1].pid,
        _database_name(database_url), floor, entries[per_run:],
        options.rounds)
    steps = step_requests(port, base, token, waiting_calls(app, client_id, per_run + extra))
    out[("POST /voice/rachel/book-name/3", mode)] = measure(
        port, steps[:per_run], options.rate, options.seconds, options.connections,
        options.closed_seconds, options.repeats, processes[-1].pid,
        _database_name(database_url), floor, steps[per_run:],
        options.rounds)
    stop(processes.pop())
    if worker is not None:
        worker.stop()
        # In Redis (the bench's broker), where every web and worker process reads it.
        print(f"ElevenLabs failing: breaker state after the runs: "
              f"{app.extensions['voice_audio'].breaker.describe()}")
    sandbox.clear_faults()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return out


def _paired(row: dict[str, float]) -> str:
    if "paired_ratio" not in row:
        return "-"
    return f"{row['paired_ratio']:.2f}" + ("*" if row["paired_exhausted"] else "")


def print_table(results, options) -> None:
    bare_rps = results[("bare constant TwiML", "-")]["rps"]
    floor_rps = results[(FLOOR, "-")]["rps"]
    print(f"\nVoice webhooks on gunicorn (gunicorn.conf.py), {os.cpu_count()} cores; "
          f"(a) {options.rate:.0f} req/s for {options.seconds:.0f} s, "
          f"(b) {options.connections} connections for {options.closed_seconds:.0f} s")
    print(f"(a) is the median of {options.repeats} paced runs; 'worst' is the highest p99 of them")
    header = (f"{'endpoint':<32} {'ElevenLabs':<10} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
              f"{'worst':>7} {'err(a)':>6} {'req/s(b)':>9} {'vs bare':>7} {'vs floor':>8} "
              f"{'in turns':>8} {'err(b)':>6} {'web cpu':>7} {'pg cpu':>6}")
    print(header)
    print("-" * len(header))
    for (endpoint, mode), row in results.items():
        flag = "*" if row["exhausted"] else ""
        print(f"{endpoint:<32} {mode:<10} {row['p50']:>7.1f} {row['p95']:>7.1f} "
              f"{row['p99']:>7.1f} {row['p99_worst']:>7.1f} {row['paced_errors']:>6} "
              f"{row['rps']:>8.0f}{flag:1} "
              f"{row['rps'] / bare_rps:>7.2f} {row['rps'] / floor_rps:>8.2f} "
              f"{_paired(row):>8} {row['closed_errors']:>6} "
              f"{row['web_cpu_ms']:>7.2f} {row['db_cpu_ms']:>6.2f}")
    print("* the prepared requests ran out before the time was up; raise --closed-budget")
    print("vs floor: req/s(b) over the floor's req/s(b), measured a minute or more apart; in "
          f"turns: the same ratio from {options.rounds} closed loops each, taking turns with the "
          "floor (a neighbour's load on a shared machine falls on both alike)")
    print("web cpu / pg cpu: CPU milliseconds per answered request during (b), in the gunicorn"
          " processes and in PostgreSQL (the database's own backends and the server processes)")


if __name__ == "__main__":
    main()
