"""`flask numbers search|provision|bulk-provision|reconcile|release-quarantined|sweep-jobs`."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask
from marshmallow import ValidationError

from ringly.db import db
from ringly.errors import InvalidInput
from ringly.provisioning import bulk, client_numbers, lifecycle, presenters, reconcile, services
from ringly.provisioning.console import (
    OperatorGroup,
    echo_json,
    fail,
    fields_block,
    operator_command,
    table,
)
from ringly.provisioning.schemas import JobSchema, SearchNumbersSchema
from ringly.provisioning.states import JobState

numbers_cli = OperatorGroup(
    "numbers", help="Search, provision and reconcile Twilio numbers. Every command takes --json "
                    "and reports an error as one line on stderr with exit code 1.")

wait_option = click.option(
    "--wait", type=click.FloatRange(0, 3600), default=60, show_default=True,
    help="Seconds to wait for the job to end (0: do not wait).")


@operator_command(numbers_cli, "search")
@click.option("--area-code", help="Three digits, e.g. 415.")
@click.option("--toll-free", is_flag=True, help="Toll-free numbers instead of local ones.")
@click.option("--contains", help="Twilio's pattern: digits, letters as on a keypad, * one digit.")
@click.option("--country", default="US", show_default=True, help="ISO 3166 alpha-2.")
@click.option("--limit", type=int, default=10, show_default=True, help="1 to 30.")
def search(area_code: str | None, toll_free: bool, contains: str | None, country: str,
           limit: int, as_json: bool) -> None:
    """Numbers for sale at Twilio (one search, as POST /api/clients/search-numbers)."""
    params = {"areaCode": area_code, "tollFree": toll_free, "contains": contains,
              "country": country, "limit": limit}
    try:
        checked = SearchNumbersSchema().load({k: v for k, v in params.items() if v is not None})
    except ValidationError as error:
        raise InvalidInput("invalid search", errors=error.messages) from None
    found = client_numbers.search_numbers(checked)
    if as_json:
        echo_json(found)
        return
    click.echo(table(("number", "locality", "region", "postal code", "capabilities"), (
        (n["phoneNumber"], n["locality"], n["region"], n["postalCode"],
         ",".join(name for name, on in sorted(n["capabilities"].items()) if on))
        for n in found["numbers"])))
    click.echo(f"{found['count']} number{'s' * (found['count'] != 1)} for sale")


@operator_command(numbers_cli, "provision")
@click.option("--business", "business_name", required=True, help="The business's name.")
@click.option("--email", required=True, help="The business's email.")
@click.option("--area-code", help="Buy in this area code (else a nearby one).")
@click.option("--toll-free", is_flag=True, help="Buy a toll-free number.")
@click.option("--number", "phone_number", help="Buy exactly this E.164 number.")
@click.option("--timezone", help="IANA zone (default: the number's own).")
@click.option("--idempotency-key", help="Name the request yourself (default: derived from the "
                                        "options, so running the same command again finds the "
                                        "same job instead of buying another number).")
@wait_option
def provision(business_name: str, email: str, area_code: str | None, toll_free: bool,
              phone_number: str | None, timezone: str | None, idempotency_key: str | None,
              wait: float, as_json: bool) -> None:
    """Create a client and its provisioning job (as POST /api/clients/provision), wait for the
    job and show it. Exit code 1 when the job failed."""
    body = bulk.operator_request({
        "business_name": business_name, "email": email, "areaCode": area_code,
        "tollFree": toll_free, "phoneNumber": phone_number, "timezone": timezone})
    key = idempotency_key or bulk.operator_key(body)
    submission = bulk.submit(body, key)
    if wait:
        services.wait_for_jobs([submission.job.id], wait)
    job, number = services.job_with_number(submission.job.id)
    resource = presenters.job_resource(job, number)
    if as_json:
        echo_json({"created": submission.created, "idempotency_key": key,
                   "job": JobSchema().dump(resource)})
    else:
        click.echo(job_summary(resource, number.phone_number if number else None))
        if not submission.created:
            click.echo(f"(an earlier run made this job: idempotency key {key})")
    if job.state == JobState.FAILED:
        raise fail(f"job {job.id} failed: {job.error_code}: {job.error_message}")
    if not job.is_terminal:
        click.echo(f"job {job.id} is still {job.state}: see it later with `flask jobs show "
                   f"{job.id}`", err=True)


def job_summary(resource: dict[str, Any], phone_number: str | None) -> str:
    error = resource["error"] or {}
    return fields_block((
        ("job", resource["id"]), ("status", resource["status"]), ("step", resource["step"]),
        ("client", resource["client_id"]), ("number", phone_number or resource["chosen_number"]),
        ("attempts", resource["attempts"]),
        ("error", f"{error.get('code')}: {error.get('message')}" if error else None)))


@operator_command(numbers_cli, "bulk-provision")
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(path_type=Path))
@click.option("--results", type=click.Path(path_type=Path),
              help="Where to write each row's outcome (default: FILE.results.csv).")
@click.option("--wait", type=click.FloatRange(0, 3600), default=300, show_default=True,
              help="Seconds to wait, once every row is submitted, for the jobs to end.")
def bulk_provision(csv_file: Path, results: Path | None, wait: float, as_json: bool) -> None:
    """Provision a number for each row of FILE.csv: columns business_name,email and optionally
    one of areaCode, tollFree, phoneNumber, and timezone.

    Each row is keyed by its content, so a run that was interrupted resumes where it stopped and
    a second run buys nothing: it shows the jobs as they stand. Invalid rows are reported and
    skipped. Every row is submitted, then the jobs are waited for (--wait); the summary counts
    completed, failed, pending, skipped-invalid and duplicate rows, and the results file has
    each row's job, status, number or error. Exit code 1 when a row failed or was invalid."""
    results = results or csv_file.with_name(f"{csv_file.stem}.results.csv")
    if results.resolve() == csv_file.resolve():
        raise fail("--results names the input file")
    rows = bulk.read_rows(csv_file)
    valid = [row for row in rows if row.submittable]
    known = bulk.jobs_by_key([row.key for row in valid])
    bulk.check_headroom(sum(row.key not in known for row in valid))
    click.echo(f"{csv_file}: {len(rows)} rows, {len(valid)} to submit "
               f"({sum(row.key in known for row in valid)} already submitted by an earlier run), "
               f"{len(rows) - len(valid)} skipped", err=True)
    try:
        with click.progressbar(valid, label="submitting", file=sys.stderr) as bar:
            for row in bar:
                bulk.submit_row(row)
    except KeyboardInterrupt:
        db.session.rollback()
        bulk.settle(rows)
        bulk.write_results(rows, results)
        submitted = sum(1 for row in valid if row.job_id)
        raise fail(f"interrupted after {submitted} of {len(valid)} rows were submitted (results "
                   f"so far in {results}); run the same command again to resume: rows already "
                   "submitted are not submitted twice") from None
    job_ids = [row.job_id for row in valid if row.job_id]
    try:
        if wait and job_ids:
            _wait_with_progress(job_ids, wait)
    except KeyboardInterrupt:
        db.session.rollback()
        click.echo("stopped waiting; the jobs go on in the worker", err=True)
    bulk.settle(rows)
    bulk.write_results(rows, results)
    counts = bulk.summary(rows)
    if as_json:
        echo_json({"file": str(csv_file), "results": str(results), "summary": counts,
                   "rows": [row.result() for row in rows]})
    else:
        click.echo(table(tuple(counts), [tuple(counts.values())]))
        click.echo(f"results: {results}")
    if counts["pending"]:
        click.echo(f"{counts['pending']} jobs are still running in the worker: run the same "
                   "command again later to see how they ended (nothing is bought twice)",
                   err=True)
    if counts["failed"] or counts["skipped_invalid"]:
        raise fail(f"{counts['failed']} rows failed and {counts['skipped_invalid']} were invalid: "
                   f"see {results}")


def _wait_with_progress(job_ids: list[str], wait: float) -> None:
    with click.progressbar(length=len(job_ids), label="waiting for the jobs",
                           file=sys.stderr) as bar:
        seen = 0

        def progress(ended: int) -> None:
            nonlocal seen
            bar.update(ended - seen)
            seen = ended

        services.wait_for_jobs(job_ids, wait, progress)


@operator_command(numbers_cli, "reconcile")
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@click.option("--yes", is_flag=True, help="Apply without asking (for scripts and cron).")
def reconcile_command(dry_run: bool, yes: bool, as_json: bool) -> None:
    """Compare every number at Twilio with the database and show the plan: the webhook base the
    numbers would point at (WEBHOOK_BASE_URL) and each change (webhooks repaired, numbers adopted
    by their job, orphans released, missing numbers flagged, numbers put back in the Messaging
    Service). Without --dry-run, asks before changing anything, unless --yes; with no terminal to
    ask on and no --yes it refuses."""
    plan = reconcile.plan_reconciliation()
    if not as_json:
        click.echo(plan_text(plan))
    changes, applied = plan.changes, None
    if not dry_run:
        if changes and not yes:
            if not stdin_is_terminal():
                raise fail(f"refusing to make {len(changes)} changes without a confirmation: "
                           "stdin is not a terminal (check the plan with --dry-run, then pass "
                           "--yes)")
            click.confirm(f"Make these {len(changes)} changes, pointing webhooks at "
                          f"{plan.webhook_base}?", abort=True, err=True)
        applied = reconcile.reconcile_numbers(plan)
        if applied.get("skipped"):
            raise fail("another reconciliation is running (the beat task?): try again in a "
                       "minute")
    if as_json:
        echo_json({"dry_run": dry_run, "plan": plan.as_dict(), "applied": applied})
    elif dry_run:
        click.echo(f"dry run: nothing changed ({len(changes)} changes planned)")
    else:
        click.echo("applied: " + (", ".join(f"{name} {count}"
                                             for name, count in sorted(applied.items()))
                                  or "nothing to do"))


def stdin_is_terminal() -> bool:
    """Someone is there to answer (not a pipe, cron, or a CI job)."""
    return sys.stdin.isatty()


def plan_text(plan: reconcile.ReconciliationPlan) -> str:
    webhooks = plan.webhooks
    lines = [fields_block((
        ("webhook base", f"{plan.webhook_base} (WEBHOOK_BASE_URL)"),
        ("voice URL", webhooks.voice_url), ("voice fallback", webhooks.voice_fallback_url),
        ("messaging service", plan.messaging_service or "none (TWILIO_MESSAGING_SERVICE_SID)"),
        ("numbers at Twilio", f"{plan.numbers_at_twilio} ({plan.ok} as they should be)"),
    ))]
    hosts = plan.current_hosts()
    if hosts:
        lines.append("webhooks to repair point now at: " + ", ".join(
            f"{host} ({count})" for host, count in sorted(hosts.items())))
    lines.extend(f"note: {note}" for note in plan.notes)
    if plan.actions:
        lines.append(table(("action", "number", "sid", "client", "why"), (
            (action.kind, action.phone_number, action.sid, action.client_id, action.reason)
            for action in plan.actions)))
    return "\n".join(lines)


@operator_command(numbers_cli, "release-quarantined")
def release_quarantined(as_json: bool) -> None:
    """Release numbers whose quarantine has ended."""
    released = lifecycle.release_due_quarantined()
    if as_json:
        echo_json({"released": released})
    else:
        click.echo(f"released {released}")


@operator_command(numbers_cli, "sweep-jobs")
def sweep_jobs(as_json: bool) -> None:
    """Re-queue stale provisioning jobs; fail those past the attempt cap."""
    outcome = services.sweep_stale_jobs()
    if as_json:
        echo_json(outcome)
    else:
        click.echo(", ".join(f"{name} {count}" for name, count in sorted(outcome.items())))


def init_app(app: Flask) -> None:
    app.cli.add_command(numbers_cli)
