"""`flask clients fix-timezones [--dry-run]`: give clients the time zone their number gives.

It lives with provisioning, not clients, because it reads the numbers' rate centers
(phone_numbers), and clients may not import provisioning.
"""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from ringly.db import db
from ringly.errors import RinglyError
from ringly.provisioning import time_zones

clients_cli = AppGroup("clients", help="Client settings that need the whole list.")


@clients_cli.command("fix-timezones")
@click.option("--dry-run", is_flag=True, help="List what would change; change nothing.")
def fix_timezones(dry_run: bool) -> None:
    """List each client whose zone is not its number's (client, number, current zone, derived
    zone) and, without --dry-run, apply the derived zones to the clients that did not choose
    theirs (an explicit zone is kept), with an audit event per change."""
    try:
        fixes = time_zones.timezone_fixes()
        applied = fixes if dry_run else time_zones.apply_timezone_fixes(fixes)
    except (SQLAlchemyError, RinglyError) as error:
        db.session.rollback()
        message = error.detail if isinstance(error, RinglyError) else \
            (str(error).splitlines() or [type(error).__name__])[0][:200]
        raise click.ClickException(f"time zones not fixed: {message}") from None
    changed = 0
    for fix in fixes:
        done = fix in applied and not dry_run
        if fix.explicit or fix.changes_zone:
            click.echo(fix.line(applied=done))
        changed += fix.changes_zone and (dry_run or done)
    kept = sum(fix.explicit for fix in fixes)
    summary = f"{changed} zone{'s' * (changed != 1)} {'to change' if dry_run else 'changed'}, " \
              f"{kept} explicit kept"
    click.echo(summary + (" (dry run: nothing changed)" if dry_run else ""))


def init_app(app: Flask) -> None:
    app.cli.add_command(clients_cli)
