"""Flask CLI commands: `flask keys create|scopes|revoke|list`."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from ringly.admin import services
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


def init_app(app: Flask) -> None:
    app.cli.add_command(keys_cli)
