"""Chaos: provisions (CHAOS_PROVISIONS, 200 by default) under Twilio faults, SIGKILLed workers and a
Redis restart (make chaos)."""
from __future__ import annotations

import collections
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from ringly import create_app
from ringly.db import db
from ringly.provisioning.models import PhoneNumber, ProvisioningJob
from ringly.provisioning.numbers import tag_from_friendly_name
from tests.support.private_services import PrivateRedis
from tests.support.worker import WorkerProcess

pytestmark = pytest.mark.chaos

# `CHAOS_PROVISIONS=1000 make chaos` for a bigger run.
PROVISIONS = int(os.environ.get("CHAOS_PROVISIONS") or 200)
BATCHES = 5
FAULTS = {"rate_429": 0.06, "rate_500": 0.06, "rate_503": 0.06, "rate_drop": 0.04,
          "rate_purchase_lost": 0.15, "retry_after_s": 0.2, "seed": 2026,
          "only": ["search", "purchase", "list", "fetch", "update", "release"]}
AREA_CODES = ("415", "212", "512", "206", "617", "303", "312", "305", "404", "602")


@pytest.fixture
def chaos_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A private, non-persistent redis-server, so restarting it disturbs no other session."""
    redis = PrivateRedis(tmp_path)
    redis.start()
    yield redis
    redis.stop()


def test_provisioning_survives_faults_kills_and_a_redis_restart(
    app, sandbox, chaos_redis, service_env, tmp_path
):
    env = {**service_env, "CELERY_BROKER_URL": chaos_redis.url,
           "CELERY_QUEUE": f"ringly-chaos-{uuid.uuid4().hex[:6]}",
           "PROVISIONING_STALE_AFTER": "4",
           # Spending caps and the per-key rate limit (one key sends every provision) are not
           # what this tests; at 1000 provisions the default caps would fail jobs.
           "PURCHASES_PER_HOUR_LIMIT": str(max(1000, 2 * PROVISIONS)),
           "NUMBERS_TOTAL_LIMIT": str(max(1000, 2 * PROVISIONS)),
           "RATE_LIMIT_PROVISION": f"{max(1000, 2 * PROVISIONS)}/minute"}
    chaos_app = create_app({"ENVIRON": env, "INSTANCE_PATH": str(tmp_path / "instance")})
    api = chaos_app.test_client()
    with chaos_app.app_context():
        from ringly.admin.services import create_api_key

        _, raw_key = create_api_key("chaos")
    headers = {"Authorization": f"Bearer {raw_key}"}
    worker = WorkerProcess(env, tmp_path / "worker.log", concurrency=4)
    worker.start()
    sandbox.set_faults(**FAULTS)
    kills = restarts = 0
    try:
        for batch in range(BATCHES):
            for number in range(batch * PROVISIONS // BATCHES,
                                (batch + 1) * PROVISIONS // BATCHES):
                body = {"business_name": f"Chaos {number}", "email": f"c{number}@example.com"}
                if number % 5 == 4:
                    body["tollFree"] = True
                else:
                    body["areaCode"] = AREA_CODES[number % len(AREA_CODES)]
                response = api.post("/api/clients/provision", json=body, headers=headers)
                assert response.status_code == 202, response.get_json()
            time.sleep(1.5)  # let purchases be in flight, then pull the plug
            if batch < BATCHES - 1:
                worker.kill()
                kills += 1
                if batch == 1:
                    chaos_redis.stop()  # queued messages die with it: the sweep re-sends
                    chaos_redis.start()
                    restarts += 1
                worker.start()
        with chaos_app.app_context():
            from ringly.provisioning.services import sweep_stale_jobs

            # Each batch waits out its faults and retries; a bigger run needs longer to drain.
            deadline = time.monotonic() + max(400, PROVISIONS * 1.5)
            while time.monotonic() < deadline:
                db.session.remove()
                pending = db.session.scalar(sa.select(sa.func.count()).select_from(
                    ProvisioningJob).where(ProvisioningJob.state.not_in(("completed", "failed"))))
                if not pending:
                    break
                sweep_stale_jobs()
                time.sleep(2)
    finally:
        worker.stop()
    sandbox.clear_faults()

    with chaos_app.app_context():
        from ringly.provisioning.reconcile import reconcile_numbers

        findings = reconcile_numbers()
        db.session.remove()
        jobs = list(db.session.scalars(sa.select(ProvisioningJob)))
        rows = {n.sid: n for n in db.session.scalars(sa.select(PhoneNumber))}
        ledger = sandbox.ledger()
        owned = {n["sid"] for n in sandbox.owned_numbers()}
        states = collections.Counter(job.state for job in jobs)
        failures = collections.Counter(job.error_code for job in jobs if job.state == "failed")
        bought = [e for e in ledger if e["event"] == "purchase"]
        per_tag = collections.Counter(tag_from_friendly_name(e["friendly_name"]) for e in bought)
        duplicates = sum(count - 1 for count in per_tag.values() if count > 1)
        held = {sid for sid, row in rows.items() if row.status != "released"}
        orphans = owned - held
        ghosts = held - owned
        unrecorded = {e["sid"] for e in bought} - set(rows)
        adopted = sum(1 for job in jobs if "adopted after a lost response" in
                      (job.choice_reason or ""))
        completed_without_number = [
            job.id for job in jobs if job.state == "completed"
            and (job.twilio_sid not in owned or rows[job.twilio_sid].status != "active")
        ]
        print(f"\nchaos: {len(jobs)} provisions, faults {FAULTS}")
        print(f"worker SIGKILLs {kills}, Redis restarts {restarts}")
        print(f"jobs: {dict(states)}; failures by code: {dict(failures)}")
        print(f"ledger: {len(bought)} purchases, "
              f"{sum(1 for e in ledger if e['event'] == 'release')} releases; "
              f"lost purchase responses adopted: {adopted}")
        print(f"reconciliation findings: {findings}")
        print(f"non-terminal jobs: {len(jobs) - states['completed'] - states['failed']}; "
              f"duplicate purchases: {duplicates}; orphans (owned, no live record): "
              f"{len(orphans)}; recorded but not owned: {len(ghosts)}; "
              f"purchases without a record: {len(unrecorded)}")

    assert len(jobs) == PROVISIONS
    assert states["completed"] + states["failed"] == PROVISIONS
    assert duplicates == 0
    assert orphans == set() and ghosts == set() and unrecorded == set()
    assert completed_without_number == []
