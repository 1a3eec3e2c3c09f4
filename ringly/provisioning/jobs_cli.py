"""`flask jobs list|show|retry`: provisioning jobs from a terminal."""
from __future__ import annotations

import click
from flask import Flask

from ringly.provisioning import presenters, services
from ringly.provisioning.cli import job_summary, wait_option
from ringly.provisioning.console import (
    OperatorGroup,
    echo_json,
    fail,
    fields_block,
    operator_command,
    table,
)
from ringly.provisioning.schemas import JobSchema
from ringly.provisioning.states import JobState

jobs_cli = OperatorGroup(
    "jobs", help="Provisioning jobs: list, show, retry a failed one. Every command takes --json "
                 "and reports an error as one line on stderr with exit code 1.")


@operator_command(jobs_cli, "list")
@click.option("--status", type=click.Choice([state.value for state in JobState]),
              help="Only jobs in this state.")
@click.option("--client-id", type=click.IntRange(1), help="Only this client's jobs.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
def list_jobs(status: str | None, client_id: int | None, limit: int, as_json: bool) -> None:
    """Jobs newest first (as GET /api/provisioning-jobs lists them)."""
    page = services.list_jobs({"status": status, "client_id": client_id, "limit": limit})
    if as_json:
        echo_json(JobSchema(many=True).dump(page.rows))
        return
    click.echo(table(("id", "status", "step", "client", "number", "attempts", "created",
                      "error"), (
        (job["id"], job["status"], job["step"], job["client_id"], job["chosen_number"],
         job["attempts"], job["created_at"], (job["error"] or {}).get("code"))
        for job in page.rows)))
    more = " (more: raise --limit)" if page.cursor else ""
    click.echo(f"{page.count} job{'s' * (page.count != 1)}{more}")


@operator_command(jobs_cli, "show")
@click.argument("job_id")
def show_job(job_id: str, as_json: bool) -> None:
    """One job: state, step, attempts, times, and its number or error."""
    job, number = services.job_with_number(job_id)
    resource = presenters.job_resource(job, number)
    if as_json:
        echo_json(JobSchema().dump(resource))
        return
    click.echo(job_summary(resource, number.phone_number if number else None))
    click.echo(fields_block((
        ("tag", resource["tag"]), ("why this number", resource["choice_reason"]),
        ("twilio sid", resource["twilio_sid"]), ("created", resource["created_at"]),
        ("started", resource["started_at"]), ("finished", resource["finished_at"]),
        ("next attempt", resource["next_attempt_at"]))))


@operator_command(jobs_cli, "retry")
@click.argument("job_id")
@wait_option
def retry_job(job_id: str, wait: float, as_json: bool) -> None:
    """Retry a failed job: a new job for the same client with the same request (the failed job
    stays as it ended). Refused (exit code 1) unless the job failed, its client exists and has no
    number, and no other job of the client is running, so a retry never buys a second number.
    Waits for the new job (--wait) and shows it; exit code 1 when it failed too."""
    retry = services.retry_job(job_id)
    if wait:
        services.wait_for_jobs([retry.id], wait)
    job, number = services.job_with_number(retry.id)
    resource = presenters.job_resource(job, number)
    if as_json:
        echo_json({"retry_of": job_id, "job": JobSchema().dump(resource)})
    else:
        click.echo(f"job {job_id} retried as job {job.id}")
        click.echo(job_summary(resource, number.phone_number if number else None))
    if job.state == JobState.FAILED:
        raise fail(f"job {job.id} failed: {job.error_code}: {job.error_message}")


def init_app(app: Flask) -> None:
    app.cli.add_command(jobs_cli)
