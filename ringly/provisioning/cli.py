"""`flask numbers reconcile|release-quarantined` and `flask provisioning sweep`."""
from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import AppGroup

numbers_cli = AppGroup("numbers", help="Compare Twilio's numbers with the database.")


@numbers_cli.command("reconcile")
def reconcile() -> None:
    """List every number at Twilio, repair drift, adopt or release orphans, flag missing."""
    from ringly.provisioning.reconcile import reconcile_numbers

    click.echo(json.dumps(reconcile_numbers(), sort_keys=True))


@numbers_cli.command("release-quarantined")
def release_quarantined() -> None:
    """Release numbers whose quarantine has ended."""
    from ringly.provisioning.lifecycle import release_due_quarantined

    click.echo(f"released {release_due_quarantined()}")


@numbers_cli.command("sweep-jobs")
def sweep_jobs() -> None:
    """Re-queue stale provisioning jobs; fail those past the attempt cap."""
    from ringly.provisioning.services import sweep_stale_jobs

    click.echo(json.dumps(sweep_stale_jobs(), sort_keys=True))


def init_app(app: Flask) -> None:
    app.cli.add_command(numbers_cli)
