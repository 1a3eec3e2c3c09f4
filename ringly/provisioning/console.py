"""What the operator commands share: a table or `--json`, and every error as one line, exit 1."""
from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import click
from flask.cli import AppGroup
from marshmallow import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from ringly.db import db
from ringly.errors import InvalidInput, RinglyError
from ringly.provisioning.bulk import field_errors
from ringly.telephony import TelephonyError

log = logging.getLogger(__name__)

MAX_CELL = 48


def one_line(text: str) -> str:
    """Any message as a single line (a multi-line error would break a script reading stderr)."""
    return " ".join(str(text).split())


class OperatorGroup(AppGroup):
    """A command group whose usage errors (an unknown option or command, a bad value) are one
    line on stderr with exit code 1, like every other error of the operator commands, instead
    of click's usage block and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            raise click.ClickException(one_line(f"{error.format_message()} (see --help)")) \
                from None


def fail(message: str) -> click.ClickException:
    return click.ClickException(one_line(message))


def describe_error(error: Exception) -> str:
    """What went wrong, in one line an operator can act on."""
    if isinstance(error, TelephonyError):
        code = f" (Twilio code {error.twilio_code})" if error.twilio_code else ""
        return f"Twilio request failed{code}: {error.message}"
    if isinstance(error, InvalidInput) and error.errors:
        return f"{error.detail}: {field_errors(error.errors)}"
    if isinstance(error, RinglyError):
        return error.detail
    if isinstance(error, ValidationError):
        return f"invalid input: {field_errors(error.messages)}"
    if isinstance(error, SQLAlchemyError):
        first = (str(getattr(error, "orig", None) or error).splitlines() or [""])[0]
        return f"database error: {first[:200] or type(error).__name__}"
    return f"{type(error).__name__}: {str(error)[:200]}"


def one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn every error of a command into `Error: <one line>` on stderr and exit code 1."""

    @functools.wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as error:  # noqa: BLE001 - an operator gets one line, never a traceback
            if isinstance(error, SQLAlchemyError):
                db.session.rollback()
            # The traceback is still there for whoever runs with LOG_LEVEL=DEBUG.
            log.debug("%s failed", getattr(command, "__name__", "command"), exc_info=True)
            raise fail(describe_error(error)) from None

    return wrapped


json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print JSON for scripts instead of a table.")


def operator_command(group: click.Group, name: str, **settings: Any) -> Callable:
    """`@group.command(name)` with `--json` and one-line errors."""

    def decorate(function: Callable[..., Any]) -> click.Command:
        return group.command(name, **settings)(json_option(one_line_errors(function)))

    return decorate


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def echo_json(data: Any) -> None:
    click.echo(to_json(data))


def cell(value: Any, limit: int | None = MAX_CELL) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    text = one_line(value)
    return text if limit is None or len(text) <= limit else text[:limit - 1] + "…"


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Rows under their column names, each column as wide as its widest cell; long cells are
    cut short but in the last column (the reasons, the errors), which is kept whole."""
    last = len(columns) - 1
    cells = [[cell(value, None if index == last else MAX_CELL) for index, value in enumerate(row)]
             for row in rows]
    widths = [max([len(name), *(len(row[index]) for row in cells)])
              for index, name in enumerate(columns)]
    lines = [list(columns), *cells]
    return "\n".join("  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True))
                     .rstrip() for line in lines)


def fields_block(pairs: Iterable[tuple[str, Any]]) -> str:
    """`name: value` lines, the names aligned."""
    pairs = list(pairs)
    width = max((len(name) for name, _ in pairs), default=0)
    return "\n".join(f"{name + ':':<{width + 1}} "
                     f"{one_line(value) if isinstance(value, str) else cell(value)}"
                     for name, value in pairs)
