"""`flask clients list|show|check|fix-timezones`: the clients, each number as Twilio has it, and
the time zones their numbers give.

It lives with provisioning, not clients, because it reads the numbers (phone_numbers, Twilio),
and clients may not import provisioning.
"""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from ringly.clients import services as client_services
from ringly.clients.schemas import ClientSchema
from ringly.db import db
from ringly.errors import RinglyError
from ringly.provisioning import checks, time_zones
from ringly.provisioning.console import (
    OperatorGroup,
    echo_json,
    fail,
    fields_block,
    json_option,
    operator_command,
    table,
)
from ringly.provisioning.models import PhoneNumber, ProvisioningJob

clients_cli = OperatorGroup(
    "clients", help="The clients, their numbers at Twilio, and their time zones. Every command "
                    "takes --json and reports an error as one line on stderr with exit code 1.")


@operator_command(clients_cli, "list")
@click.option("--q", help="Part of the business name.")
@click.option("--active/--inactive", default=None, help="Only active (or inactive) clients.")
@click.option("--has-number/--no-number", default=None,
              help="Only clients with (or without) a number.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
def list_clients(q: str | None, active: bool | None, has_number: bool | None, limit: int,
                 as_json: bool) -> None:
    """Clients newest first, filtered as GET /api/clients filters them."""
    page = client_services.list_clients({"q": q, "active": active, "has_number": has_number,
                                         "limit": limit})
    if as_json:
        echo_json(ClientSchema(many=True).dump(page.rows))
        return
    click.echo(table(("id", "business", "number", "active", "time zone"), (
        (c.id, c.business_name, c.ringlypro_number, c.active, c.timezone) for c in page.rows)))
    more = " (more: raise --limit)" if page.cursor else ""
    click.echo(f"{page.count} client{'s' * (page.count != 1)}{more}")


@operator_command(clients_cli, "show")
@click.argument("client_id", type=click.IntRange(1))
def show_client(client_id: int, as_json: bool) -> None:
    """One client: its settings, its number as recorded, and its latest provisioning job."""
    client = client_services.get_client(client_id)
    number = db.session.scalar(sa.select(PhoneNumber).where(
        PhoneNumber.sid == client.twilio_number_sid)) if client.twilio_number_sid else None
    job = db.session.scalar(sa.select(ProvisioningJob).where(
        ProvisioningJob.client_id == client.id).order_by(ProvisioningJob.created_at.desc())
        .limit(1))
    recorded = {"sid": number.sid, "status": number.status, "number_type": number.number_type,
                "locality": number.locality, "region": number.region,
                "messaging_service_sid": number.messaging_service_sid} if number else None
    latest = {"id": job.id, "status": str(job.state), "error_code": job.error_code} \
        if job else None
    if as_json:
        echo_json({"client": ClientSchema().dump(client), "number": recorded,
                   "latest_job": latest})
        return
    click.echo(fields_block((
        ("id", client.id), ("business", client.business_name), ("email", client.email),
        ("number", client.ringlypro_number), ("number sid", client.twilio_number_sid),
        ("number status", f"{number.status} ({number.number_type}, {number.locality or '-'}, "
                          f"{number.region or '-'})" if number else None),
        ("active", client.active), ("rachel", client.rachel_enabled),
        ("time zone", f"{client.timezone} ({client.timezone_source})"),
        ("language", client.default_language), ("forwarding", client.forwarding_number),
        ("latest job", f"{job.id} {job.state}" + (f" ({job.error_code})" if job.error_code
                                                   else "") if job else None),
        ("created", client.created_at))))


@operator_command(clients_cli, "check")
@click.argument("client_id", type=click.IntRange(1), required=False)
def check_clients(client_id: int | None, as_json: bool) -> None:
    """Each client's number live at Twilio against what Ringly would set: present in this
    account, the client's number, voice, voice fallback, SMS and status callback URLs (POST),
    voice capability, and membership of the Messaging Service when one is configured. Status
    per client: OK, DRIFT (with each difference) or MISSING. Changes nothing (`flask numbers
    reconcile` repairs). Exit code 1 when any client is not OK."""
    found = checks.check_client_numbers(client_id)
    if as_json:
        echo_json([check.as_dict() for check in found])
    else:
        click.echo(table(("client", "business", "number", "status", "differences"), (
            (check.client_id, check.business_name, check.phone_number, check.status,
             "; ".join(check.differences + check.notes) or "-")
            for check in found)))
    bad = [check for check in found if check.status != checks.OK]
    if not as_json:
        click.echo(f"{len(found)} checked, {len(found) - len(bad)} OK, {len(bad)} not OK")
    if bad:
        raise fail(f"{len(bad)} of {len(found)} clients are not OK: " + ", ".join(
            f"{check.client_id} {check.status}" for check in bad[:10])
            + (" …" if len(bad) > 10 else ""))


@clients_cli.command("fix-timezones")
@click.option("--dry-run", is_flag=True, help="List what would change; change nothing.")
@json_option
def fix_timezones(dry_run: bool, as_json: bool = False) -> None:
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
    if as_json:
        echo_json([{"client_id": fix.client_id, "phone_number": fix.phone_number,
                    "current": fix.current, "derived": fix.derived.zone,
                    "basis": fix.derived.basis, "explicit": fix.explicit,
                    "applied": fix in applied and not dry_run} for fix in fixes])
        return
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
