"""Flask CLI commands: `flask keys create|revoke|list`."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from ringly.admin import services
from ringly.errors import RinglyError

keys_cli = AppGroup("keys", help="Create, list and revoke API keys.")


@keys_cli.command("create")
@click.argument("name")
def create_key(name: str) -> None:
    """Create an API key NAME and print it once."""
    try:
        _, raw_key = services.create_api_key(name)
    except RinglyError as error:
        raise click.ClickException(error.detail) from None
    click.echo(raw_key)


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
    """List API keys (prefix, name, last use, revoked)."""
    for key in services.list_api_keys():
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
        click.echo(f"{key.prefix}…  {key.name:<24} last used {used:<16}  {state}")


@keys_cli.command("ensure", hidden=True)
@click.argument("name")
@click.argument("raw_key")
def ensure_key(name: str, raw_key: str) -> None:
    """Register RAW_KEY as NAME (used by `make run` for its development key)."""
    services.ensure_api_key(name, raw_key)


def init_app(app: Flask) -> None:
    app.cli.add_command(keys_cli)
