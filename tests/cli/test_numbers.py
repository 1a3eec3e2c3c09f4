"""`flask numbers search|provision` and the operator commands' errors: one line, exit code 1."""
from __future__ import annotations

import sqlalchemy as sa

from ringly import tasks
from ringly.admin.models import AuditEvent
from ringly.clients.models import Client
from ringly.db import db
from ringly.provisioning.models import ProvisioningJob
from tests.cli.conftest import assert_one_line_error

PROVISION = ("numbers", "provision", "--business", "Bella Salon", "--email", "o@bella.example")


def test_search_lists_numbers_for_sale_through_the_api_search(cli, sandbox):
    table = cli("numbers", "search", "--area-code", "415", "--limit", "3")
    assert table.exit_code == 0, table.output
    header, *rows, total = table.stdout.splitlines()
    assert header.split()[:3] == ["number", "locality", "region"]
    assert len(rows) == 3 and total == "3 numbers for sale"
    assert all(row.startswith("+1415") and "San Francisco" in row for row in rows)
    found = cli.json("numbers", "search", "--toll-free", "--limit", "2")
    assert found["success"] is True and found["count"] == 2
    assert all(number["phoneNumber"][2:5] in ("800", "833", "844", "855", "866", "877", "888")
               for number in found["numbers"])


def test_search_refuses_what_the_api_refuses_in_one_line(cli, sandbox):
    assert_one_line_error(cli("numbers", "search", "--area-code", "41"),
                          "areaCode: must be 3 digits")
    assert_one_line_error(cli("numbers", "search", "--limit", "31"), "limit:")


def test_provision_submits_once_per_request_and_shows_the_job(cli, sandbox, sent_tasks):
    first = cli.json(*PROVISION, "--area-code", "312", "--wait", "0")
    assert first["created"] is True and first["job"]["status"] == "queued"
    assert first["idempotency_key"].startswith("cli-")
    again = cli(*PROVISION, "--area-code", "312", "--wait", "0")
    assert again.exit_code == 0, again.output
    assert f"job:      {first['job']['id']}" in again.stdout
    assert "an earlier run made this job" in again.stdout
    # Same request, same job: one client, one job, one task for a worker.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 1
    assert sent_tasks == [(tasks.RUN_PROVISIONING_JOB, (first["job"]["id"],))]
    event = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.kind == "provisioning.requested"))
    assert event.actor == "cli numbers provision"
    # Another choice of number is another request.
    other = cli.json(*PROVISION, "--toll-free", "--wait", "0")
    assert other["created"] is True and other["job"]["id"] != first["job"]["id"]


def test_provision_waits_for_the_job_and_fails_with_its_reason(cli, sandbox, sent_tasks):
    from ringly.provisioning import saga

    submitted = cli.json(*PROVISION, "--area-code", "533", "--wait", "0")
    saga.advance(submitted["job"]["id"])  # what the worker does: 533 has no numbers
    db.session.remove()
    result = cli(*PROVISION, "--area-code", "533", "--wait", "1")
    assert_one_line_error(result, f"job {submitted['job']['id']} failed: no_numbers_available")
    assert "status:   failed" in result.stdout


def test_provision_refuses_bad_input_in_one_line(cli, sandbox, sent_tasks):
    assert_one_line_error(cli(*PROVISION, "--area-code", "312", "--toll-free"),
                          "give one of areaCode, tollFree and phoneNumber")
    assert_one_line_error(cli("numbers", "provision", "--business", "X", "--email", "nope"),
                          "email: Not a valid email address.")
    assert_one_line_error(cli(*PROVISION, "--timezone", "Mars/Olympus"),
                          "timezone: unknown IANA time zone")
    assert_one_line_error(cli("numbers", "provision", "--email", "o@bella.example"),
                          "Missing option '--business'")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProvisioningJob)) == 0
    assert sent_tasks == []


def test_every_usage_error_is_one_line_with_exit_code_1(cli, sandbox, tmp_path):
    assert_one_line_error(cli("numbers", "search", "--bogus"), "No such option '--bogus'")
    assert_one_line_error(cli("numbers", "nonsense"), "No such command 'nonsense'")
    assert_one_line_error(cli("jobs", "show", "nope"), "no provisioning job nope")
    assert_one_line_error(cli("jobs", "list", "--status", "lost"), "'lost' is not one of")
    assert_one_line_error(cli("numbers", "bulk-provision", str(tmp_path / "none.csv")),
                          "cannot read", "none.csv")


def test_twilio_unreachable_is_one_line(service_env, tmp_path):
    from ringly import create_app

    unreachable = create_app({"ENVIRON": {**service_env,
                                          "TWILIO_API_BASE_URL": "http://127.0.0.1:9"},
                              "INSTANCE_PATH": str(tmp_path)})
    runner = unreachable.test_cli_runner()
    assert_one_line_error(runner.invoke(args=["numbers", "search"]), "Twilio is unavailable")
    assert_one_line_error(runner.invoke(args=["numbers", "reconcile", "--dry-run"]),
                          "Twilio request failed")
