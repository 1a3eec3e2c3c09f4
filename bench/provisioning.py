"""Benchmark: 300 provisions through the HTTP API and a real worker, 200 ms per Twilio request.

Prints total time, jobs/s, p50/p95 job latency, Twilio requests per completed provision
(from the sandbox's own request counts, /sandbox/requests) and the bound
N x requests-per-provision x latency / worker concurrency. Not a test.
"""
from __future__ import annotations

import argparse
import collections
import logging
import random
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402
import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.load import percentile  # noqa: E402
from ringly import create_app  # noqa: E402
from ringly.admin.services import create_api_key  # noqa: E402
from ringly.db import db  # noqa: E402
from ringly.provisioning.models import PhoneNumber, ProvisioningJob  # noqa: E402
from ringly.sandbox.server import SandboxServer  # noqa: E402
from tests.support.databases import fresh_postgres_database  # noqa: E402
from tests.support.worker import WorkerProcess  # noqa: E402
from tests.support.wsgi_server import LiveServer  # noqa: E402

AREA_CODES = ("415", "212", "512", "206", "617", "303", "312", "305", "404", "602")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4, help="worker processes")
    parser.add_argument("--pool", default="prefork", choices=["prefork", "threads"])
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    rng = random.Random(42)
    bodies = []
    for index in range(args.jobs):
        body = {"business_name": f"Bench Shop {index}", "email": f"shop{index}@example.com"}
        if index % 5 == 4:
            body["tollFree"] = True
        else:
            body["areaCode"] = AREA_CODES[index % len(AREA_CODES)]
        bodies.append(body)
    rng.shuffle(bodies)

    with SandboxServer() as sandbox, fresh_postgres_database(
        "ringly_bench"
    ) as database_url, tempfile.TemporaryDirectory() as tmp:
        live = LiveServer()
        env = {
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": args.redis_url,
            "CELERY_QUEUE": f"ringly-bench-{uuid.uuid4().hex[:8]}",
            "TWILIO_ACCOUNT_SID": sandbox.account_sid,
            "TWILIO_AUTH_TOKEN": sandbox.auth_token,
            "TWILIO_API_BASE_URL": sandbox.url,
            "WEBHOOK_BASE_URL": live.url,
            "SECRET_KEY": "bench",
            "LOG_LEVEL": "WARNING",
            # The default hourly cap (100) would stop the run; the guard is tested elsewhere.
            "PURCHASES_PER_HOUR_LIMIT": str(args.jobs * 2),
            # Likewise the per-key provisioning rate limit (30/minute): one key sends them all.
            "RATE_LIMIT_PROVISION": f"{args.jobs * 2}/minute",
        }
        app = create_app({"ENVIRON": env, "INSTANCE_PATH": tmp})
        with app.app_context():
            flask_migrate.upgrade()
            _, api_key = create_api_key("bench")
        live.serve(app)
        worker = WorkerProcess(env, Path(tmp) / "worker.log", concurrency=args.concurrency,
                                pool=args.pool)
        worker.start(timeout=60)
        sandbox.set_faults(latency_ms=args.latency_ms,
                           only=["search", "purchase", "list", "fetch", "update", "release"])
        headers = {"Authorization": f"Bearer {api_key}"}
        session = requests.Session()
        sandbox.clear_request_counts()
        try:
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=16) as pool:
                answers = list(pool.map(
                    lambda body: session.post(f"{live.url}/api/clients/provision", json=body,
                                              headers=headers, timeout=30), bodies))
            submitted = time.monotonic() - started
            assert all(answer.status_code == 202 for answer in answers)
            with app.app_context():
                while True:
                    pending = db.session.scalar(sa.select(sa.func.count()).select_from(
                        ProvisioningJob).where(ProvisioningJob.state.not_in(
                            ("completed", "failed"))))
                    db.session.rollback()
                    if not pending or time.monotonic() - started > 600:
                        break
                    time.sleep(0.05)
                total = time.monotonic() - started
                jobs = list(db.session.scalars(sa.select(ProvisioningJob)))
                bought_at = dict(db.session.execute(
                    sa.select(PhoneNumber.job_id, PhoneNumber.purchased_at)).all())
        finally:
            worker.stop()
            live.stop()
        completed = [job for job in jobs if job.state == "completed"]
        failed = [job for job in jobs if job.state == "failed"]
        latencies = [(job.finished_at - job.created_at).total_seconds() for job in completed]
        service = [(job.finished_at - job.started_at).total_seconds() for job in completed]
        ledger = sandbox.ledger()
        counts = sandbox.request_counts()
        requests_total = sum(counts.values())
        per_provision = requests_total / max(len(completed), 1)
        bound = args.jobs * per_provision * (args.latency_ms / 1000) / args.concurrency
        print(f"provisions: {args.jobs} (80% local across {len(AREA_CODES)} area codes, "
              f"20% toll-free); worker concurrency {args.concurrency} ({args.pool}); "
              f"Twilio latency {args.latency_ms} ms")
        reasons = collections.Counter(job.error_code for job in failed)
        print(f"completed {len(completed)}, failed {len(failed)} {dict(reasons)}; "
              f"submitted in {submitted:.2f} s")
        print(f"total time {total:.2f} s; {len(completed) / total:.1f} jobs/s")
        print(f"job latency p50 {percentile(latencies, 0.5):.2f} s, "
              f"p95 {percentile(latencies, 0.95):.2f} s, mean {statistics.mean(latencies):.2f} s; "
              f"time in a worker per job: mean {statistics.mean(service):.3f} s")
        phases = {
            "select+guard": [(j.purchase_started_at - j.started_at).total_seconds()
                             for j in completed],
            "purchase": [(bought_at[j.id] - j.purchase_started_at).total_seconds()
                         for j in completed],
            "record+verify+complete": [(j.finished_at - bought_at[j.id]).total_seconds()
                                       for j in completed],
        }
        print("phases (mean): " + ", ".join(
            f"{name} {statistics.mean(values) * 1000:.0f} ms" for name, values in phases.items()))
        print("Twilio requests: " + ", ".join(
            f"{op} {n}" for op, n in sorted(counts.items(), key=lambda item: -item[1])))
        print(f"Twilio requests per completed provision: {per_provision:.3f} "
              f"(ledger purchases {sum(1 for e in ledger if e['event'] == 'purchase')})")
        print(f"bound N x rpp x latency / concurrency = {args.jobs} x {per_provision:.3f} x "
              f"{args.latency_ms / 1000:.1f} / {args.concurrency} = {bound:.2f} s; "
              f"total / bound = {total / bound:.2f}")


if __name__ == "__main__":
    main()
