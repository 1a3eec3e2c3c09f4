"""`flask numbers bulk-provision`: hundreds of rows through a real worker and the sandbox; a
second run and an interrupted run buy nothing twice (the sandbox's ledger = the database)."""
from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from ringly import create_app
from ringly.clients.models import Client
from ringly.db import db
from ringly.provisioning import bulk
from ringly.provisioning.candidates import forget_pools
from ringly.provisioning.models import PhoneNumber, ProvisioningJob
from tests.cli.conftest import Cli, assert_one_line_error
from tests.support.worker import WorkerProcess

pytestmark = pytest.mark.e2e

AREA_CODES = ("415", "212", "512", "206", "617", "303", "312", "305", "404", "602", "213",
              "713")
HEADER = ("business_name", "email", "areaCode", "tollFree", "phoneNumber", "timezone")


@pytest.fixture(scope="module")
def bulk_app(service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Flask]:
    """An operator's app and its own worker on their own queue, with a spending guard that lets
    a file of 300 rows through (the default allows 100 an hour)."""
    env = {**service_env, "CELERY_QUEUE": f"ringly-bulk-{uuid.uuid4().hex[:6]}",
           "PURCHASES_PER_HOUR_LIMIT": "1000"}
    folder = tmp_path_factory.mktemp("bulk")
    operator_app = create_app({"ENVIRON": env, "INSTANCE_PATH": str(folder / "instance")})
    worker = WorkerProcess(env, folder / "worker.log", concurrency=4)
    worker.start()
    yield operator_app
    worker.stop()


@pytest.fixture
def operator(bulk_app: Flask, app: Flask, sandbox) -> Iterator[Cli]:
    """`flask …` as the operator runs it; the session app (`app`) serves the voice URL the
    worker's last step calls, and empties the tables before the test."""
    with bulk_app.app_context():
        forget_pools()  # the sandbox was reset: no candidates cached from earlier tests
        yield Cli(bulk_app)
        db.session.remove()


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _signups(count: int, prefix: str = "Shop") -> list[dict[str, str]]:
    rows = []
    for index in range(count):
        row = {"business_name": f"{prefix} {index}", "email": f"owner{index}@shop.example"}
        if index % 25 == 24:
            row["tollFree"] = "yes"
        else:
            row["areaCode"] = AREA_CODES[index % len(AREA_CODES)]
        rows.append(row)
    return rows


def _purchases(sandbox) -> list[str]:
    return [entry["sid"] for entry in sandbox.ledger() if entry["event"] == "purchase"]


def _recorded_sids() -> set[str]:
    db.session.remove()
    return set(db.session.scalars(sa.select(PhoneNumber.sid).where(
        PhoneNumber.status != "released")))


def _results(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_300_rows_end_in_a_correct_summary_and_a_second_run_buys_nothing(
        operator, sandbox, tmp_path):
    rows = _signups(300)
    rows += [
        {"business_name": "Bad Email", "email": "not-an-email", "areaCode": "415"},
        {"business_name": "Bad Code", "email": "c@shop.example", "areaCode": "41"},
        {"business_name": "Both", "email": "b@shop.example", "areaCode": "415", "tollFree": "1"},
        dict(rows[7]),  # the same request as line 9: one job, one number
        {"business_name": "Nowhere", "email": "n@shop.example", "areaCode": "533"},
    ]
    source = _write(tmp_path / "signups.csv", rows)

    first = operator("numbers", "bulk-provision", str(source), "--json")
    assert_one_line_error(first, "1 rows failed and 3 were invalid",
                          str(tmp_path / "signups.results.csv"), progress=True)
    report = json.loads(first.stdout)
    assert report["summary"] == {"rows": 305, "completed": 300, "failed": 1, "pending": 0,
                                 "skipped_invalid": 3, "duplicates": 1, "not_submitted": 0,
                                 "created_now": 301}
    purchases = _purchases(sandbox)
    assert len(purchases) == len(set(purchases)) == 300
    assert set(purchases) == _recorded_sids()

    results = _results(tmp_path / "signups.results.csv")
    assert len(results) == 305 and [r["line"] for r in results] == [str(n) for n in range(2, 307)]
    numbers = {client.business_name: client.ringlypro_number
               for client in db.session.scalars(sa.select(Client))}
    for row in results[:300]:
        assert row["status"] == "completed" and row["phone_number"] == \
            numbers[row["business_name"]], row
    assert results[300]["status"] == "invalid" and "email" in results[300]["error"]
    assert results[301]["error"] == "areaCode: must be 3 digits"
    assert "give one of areaCode, tollFree and phoneNumber" in results[302]["error"]
    assert results[303]["status"] == "duplicate" and results[303]["job_id"] == results[7]["job_id"]
    assert results[303]["error"] == "the same request as line 9"
    assert results[304]["status"] == "failed"
    assert results[304]["error"].startswith("no_numbers_available: no numbers available")

    again = operator("numbers", "bulk-provision", str(source))
    assert_one_line_error(again, "1 rows failed and 3 were invalid", progress=True)
    assert "305 rows, 301 to submit (301 already submitted by an earlier run)" in again.stderr
    header, values = again.stdout.splitlines()[:2]
    assert dict(zip(header.split(), values.split(), strict=True)) == {
        "rows": "305", "completed": "300", "failed": "1", "pending": "0",
        "skipped_invalid": "3", "duplicates": "1", "not_submitted": "0", "created_now": "0"}
    assert _purchases(sandbox) == purchases  # the ledger did not move
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProvisioningJob)) == 301
    assert _results(tmp_path / "signups.results.csv") == results


def test_an_interrupted_run_resumes_and_buys_each_number_once(
        operator, sandbox, tmp_path, monkeypatch):
    source = _write(tmp_path / "batch.csv", _signups(120, prefix="Batch"))
    real_submit, submitted = bulk.submit_row, []

    def ctrl_c_after_60(row: bulk.BulkRow) -> bulk.BulkRow:
        if len(submitted) == 60:
            raise KeyboardInterrupt  # the operator pressed Ctrl-C half way
        submitted.append(row.line)
        return real_submit(row)

    monkeypatch.setattr(bulk, "submit_row", ctrl_c_after_60)
    stopped = operator("numbers", "bulk-provision", str(source), "--wait", "0")
    assert_one_line_error(stopped, "interrupted after 60 of 120 rows were submitted",
                          "run the same command again to resume", progress=True)
    partial = _results(tmp_path / "batch.results.csv")
    assert sum(bool(row["job_id"]) for row in partial) == 60
    assert {row["status"] for row in partial[60:]} == {"not_submitted"}

    monkeypatch.setattr(bulk, "submit_row", real_submit)
    resumed = operator("numbers", "bulk-provision", str(source), "--json")
    assert resumed.exit_code == 0, resumed.output
    assert "120 to submit (60 already submitted by an earlier run)" in resumed.stderr
    summary = json.loads(resumed.stdout)["summary"]
    assert summary["completed"] == 120 and summary["created_now"] == 60
    assert summary["failed"] == summary["pending"] == summary["skipped_invalid"] == 0
    purchases = _purchases(sandbox)
    assert len(purchases) == len(set(purchases)) == 120
    assert set(purchases) == _recorded_sids()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 120


def test_a_file_the_spending_guard_would_stop_half_way_is_refused_before_anything_is_submitted(
        operator, bulk_app, sandbox, tmp_path):
    source = _write(tmp_path / "big.csv", _signups(40))
    bulk_app.config["PURCHASES_PER_HOUR_LIMIT"] = 30
    try:
        result = operator("numbers", "bulk-provision", str(source))
    finally:
        bulk_app.config["PURCHASES_PER_HOUR_LIMIT"] = 1000
    assert_one_line_error(result, "40 rows need a new number but the spending guard allows 30",
                          "PURCHASES_PER_HOUR_LIMIT=30")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProvisioningJob)) == 0


@pytest.mark.parametrize(("content", "message"), [
    ("", "is empty"),
    ("business_name,mail\nA,a@example.com\n", "unknown column 'mail'"),
    ("business_name,areaCode\nA,415\n", "no 'email' column"),
    (b"business_name,email\n\xff\xfe,a\n", "is not UTF-8 text"),
])
def test_a_file_that_is_not_such_a_csv_is_one_line(operator, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert_one_line_error(operator("numbers", "bulk-provision", str(path)), message)
    assert not (tmp_path / "bad.results.csv").exists()
