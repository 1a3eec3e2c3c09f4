"""Flask CLI commands: `flask keys create|scopes|revoke|list` and `flask admin create|list|disable`
(the console's admin users)."""
from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from ringly.admin import services, users
from ringly.admin.scopes import DEFAULT_SCOPES, SCOPES
from ringly.errors import RinglyError

keys_cli = AppGroup("keys", help="Create, scope, list and revoke API keys.")

scope_option = click.option(
    "--scope", "scopes", multiple=True, type=click.Choice(SCOPES),
    help="What the key may do; repeat for several (default: provision and read).")


@keys_cli.command("create")
@click.argument("name")
@scope_option
def create_key(name: str, scopes: tuple[str, ...]) -> None:
    """Create an API key NAME and print it once."""
    try:
        _, raw_key = services.create_api_key(name, scopes or DEFAULT_SCOPES)
    except RinglyError as error:
        raise click.ClickException(error.detail) from None
    click.echo(raw_key)


@keys_cli.command("scopes")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(SCOPES),
              help="The key's scopes from now on (they replace the old ones); repeatable.")
def set_key_scopes(name: str, scopes: tuple[str, ...]) -> None:
    """Replace the scopes of the API key NAME."""
    try:
        api_key = services.set_api_key_scopes(name, scopes)
    except RinglyError as error:
        raise click.ClickException(error.detail) from None
    click.echo(f"{name}: {', '.join(api_key.scope_list)}")


@keys_cli.command("revoke")
@click.argument("name")
def revoke_key(name: str) -> None:
    """Revoke the API key NAME."""
    try:
        services.revoke_api_key(name)
    except RinglyError as error:
        raise click.ClickException(error.detail) from None
    click.echo(f"revoked {name}")


@keys_cli.command("list")
def list_keys() -> None:
    """List API keys (prefix, name, scopes, last use, revoked)."""
    for key in services.list_api_keys():
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
        scopes = ",".join(key.scope_list)
        click.echo(f"{key.prefix}…  {key.name:<24} {scopes:<20} last used {used:<16}  {state}")


@keys_cli.command("ensure", hidden=True)
@click.argument("name")
@click.argument("raw_key")
@scope_option
def ensure_key(name: str, raw_key: str, scopes: tuple[str, ...]) -> None:
    """Register RAW_KEY as NAME (used by `make run` for its development key)."""
    services.ensure_api_key(name, raw_key, scopes or DEFAULT_SCOPES)


admin_cli = AppGroup("admin", help="Create, list and disable the console's admin users.")


def _password_from_stdin() -> str:
    # The first line of standard input, without its line break: never an argument, which
    # `ps` and the shell's history would show.
    return sys.stdin.readline().rstrip("\r\n")


@admin_cli.command("create")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the password from the first line of standard input.")
def create_admin(email: str, password_stdin: bool) -> None:
    """Create the admin EMAIL, who signs in to /admin with the password read from stdin."""
    try:
        admin = users.create_admin(email, _password_from_stdin())
    except RinglyError as error:
        raise click.ClickException(error.detail) from None
    click.echo(f"created admin {admin.email}")


@admin_cli.command("list")
def list_admins() -> None:
    """List admins (email, created, last sign-in, disabled)."""
    for admin in users.list_admins():
        state = f"disabled {admin.disabled_at:%Y-%m-%d %H:%M}" if admin.disabled_at else "active"
        seen = f"{admin.last_sign_in_at:%Y-%m-%d %H:%M}" if admin.last_sign_in_at else "never"
        click.echo(f"{admin.email:<40} created {admin.created_at:%Y-%m-%d}  "
                   f"last sign-in {seen:<16}  {state}")


@admin_cli.command("disable")
@click.argument("email")
def disable_admin(email: str) -> None:
    """Disable the admin EMAIL: no more sign-ins, and every session of theirs ends now."""
    try:
        users.disable_admin(email)
    except RinglyError as error:
        raise click.ClickException(error.detail) from None
    click.echo(f"disabled {email.strip().lower()}")


@admin_cli.command("ensure", hidden=True)
@click.argument("email")
def ensure_admin(email: str) -> None:
    """Create or re-enable EMAIL with the password on stdin (used by `make run`)."""
    users.ensure_admin(email, _password_from_stdin())


def init_app(app: Flask) -> None:
    app.cli.add_command(keys_cli)
    app.cli.add_command(admin_cli)
