"""`flask numbers reconcile|release-quarantined|sweep-jobs`."""
from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup

from ringly.provisioning import lifecycle, reconcile, services
from ringly.telephony import TelephonyError

numbers_cli = AppGroup("numbers", help="Compare Twilio's numbers with the database.")


def twilio_errors_as_messages(command: Callable[..., Any]) -> Callable[..., Any]:
    """Say what Twilio answered (or that it is unreachable) instead of a traceback; exit 1."""

    @functools.wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except TelephonyError as error:
            code = f" (Twilio code {error.twilio_code})" if error.twilio_code else ""
            raise click.ClickException(f"Twilio request failed{code}: {error.message}") from None

    return wrapped


@numbers_cli.command("reconcile")
@twilio_errors_as_messages
def reconcile_command() -> None:
    """List every number at Twilio, repair drift, adopt or release orphans, flag missing."""
    click.echo(json.dumps(reconcile.reconcile_numbers(), sort_keys=True))


@numbers_cli.command("release-quarantined")
@twilio_errors_as_messages
def release_quarantined() -> None:
    """Release numbers whose quarantine has ended."""
    click.echo(f"released {lifecycle.release_due_quarantined()}")


@numbers_cli.command("sweep-jobs")
def sweep_jobs() -> None:
    """Re-queue stale provisioning jobs; fail those past the attempt cap."""
    click.echo(json.dumps(services.sweep_stale_jobs(), sort_keys=True))


def init_app(app: Flask) -> None:
    app.cli.add_command(numbers_cli)
