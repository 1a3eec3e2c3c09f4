"""One way to page every list: `limit` and an opaque `cursor` in, `Link` and `X-Next-Cursor` out.

A cursor is the sort key of the last row served (keyset paging), so a page never repeats or
skips a row when rows are added meanwhile; for a list Twilio pages, it wraps Twilio's page
token. Cursors are signed with SECRET_KEY for the list that gave them out: one that was altered,
made up or taken from another list is a 422 problem, never a query. The next page's URL is sent
in a `Link: <...>; rel="next"` header (RFC 8288) and its cursor as `X-Next-Cursor`; the last
page has neither.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app, request, url_for
from marshmallow import Schema, fields, validate

from ringly.db import MAX_ROW_ID
from ringly.errors import InvalidInput

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Room for a wrapped Twilio page token (a path and query); nothing longer is read at all.
MAX_CURSOR_LENGTH = 1024
CURSOR_PATTERN = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$"
SIGNATURE_BYTES = 16

LINK_HEADERS = {
    "Link": {"description": 'the next page, as `<url>; rel="next"`; absent on the last page',
             "schema": {"type": "string"}},
    "X-Next-Cursor": {"description": "the `cursor` of the next page; absent on the last page",
                      "schema": {"type": "string"}},
}


class PageArgsSchema(Schema):
    limit = fields.Integer(load_default=DEFAULT_LIMIT,
                           validate=validate.Range(min=1, max=MAX_LIMIT),
                           metadata={"description": f"rows per page (1-{MAX_LIMIT})"})
    cursor = fields.String(
        validate=[validate.Length(max=MAX_CURSOR_LENGTH),
                  validate.Regexp(CURSOR_PATTERN, error="Not a cursor from a previous page.")],
        metadata={"description": "opaque: the next page's cursor, from the previous page's "
                                 "`Link` or `X-Next-Cursor` header; valid for this list only"})


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(scope: str, payload: str) -> str:
    key = hashlib.sha256(f"ringly.paging:{current_app.config['SECRET_KEY']}".encode()).digest()
    digest = hmac.new(key, f"{scope}:{payload}".encode(), hashlib.sha256).digest()
    return _b64(digest[:SIGNATURE_BYTES])


def encode_cursor(scope: str, *parts: Any) -> str:
    """A cursor for the list named `scope` holding `parts` (JSON values)."""
    payload = _b64(json.dumps(parts, separators=(",", ":")).encode())
    return f"{payload}.{_signature(scope, payload)}"


def decode_cursor(scope: str, token: str, *types: Callable[[Any], Any]) -> tuple[Any, ...]:
    """The parts of a cursor this API gave out for `scope`, each read through its type; a 422
    problem for anything else."""
    try:
        payload, _, signature = token.partition(".")
        if not hmac.compare_digest(signature, _signature(scope, payload)):
            raise ValueError("not signed for this list")
        parts = json.loads(_unb64(payload))
        if not isinstance(parts, list) or len(parts) != len(types):
            raise ValueError("wrong shape")
        return tuple(kind(part) for kind, part in zip(types, parts, strict=True))
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        raise InvalidInput("The cursor is not one this API gave out for this list.",
                           errors={"cursor": ["Not a cursor from a previous page."]}) from None


def row_id(value: Any) -> int:
    """A cursor part that is a row id: an int an id column can hold."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ROW_ID:
        raise ValueError("not a row id")
    return value


@dataclass(frozen=True)
class Keyset:
    """How one list is ordered: its name (its cursors are signed for it), the sort key of a row,
    and how each part of a key is read back from a cursor."""

    name: str
    key: Callable[[Any], tuple[Any, ...]]
    types: tuple[Callable[[Any], Any], ...]

    @classmethod
    def by_id(cls, name: str) -> Keyset:
        return cls(name, lambda row: (row.id,), (row_id,))

    def after(self, args: dict[str, Any]) -> Any:
        """The key in `args["cursor"]` (a one-part key as its value), None on the first page."""
        if not args.get("cursor"):
            return None
        parts = decode_cursor(self.name, args["cursor"], *self.types)
        return parts[0] if len(parts) == 1 else parts


@dataclass
class Page:
    """One page of a list: its rows and the next page's cursor (None on the last page)."""

    rows: list[Any]
    cursor: str | None

    @property
    def count(self) -> int:
        return len(self.rows)


def keyset_page(keyset: Keyset, args: dict[str, Any], fetch: Callable[[int, Any], Sequence[Any]],
                after: Any = None) -> Page:
    """One page of `args["limit"]` rows: `fetch(n, after)` returns up to n rows that follow the
    key `after` in the list's order (None: from the start). `after` defaults to the cursor's."""
    limit = args["limit"]
    rows = list(fetch(limit + 1, keyset.after(args) if after is None else after))
    served = rows[:limit]
    more = len(rows) > limit
    return Page(served, encode_cursor(keyset.name, *keyset.key(served[-1])) if more else None)


def next_page_headers(cursor: str | None, limit: int, carry: Sequence[str] = ()) -> dict[str, str]:
    """`Link` and `X-Next-Cursor` for the page after this request's, none on the last page.
    The next URL keeps the query arguments named in `carry` (the list's filters) as they came."""
    if cursor is None:
        return {}
    query = {name: request.args[name] for name in carry if name in request.args}
    url = url_for(request.endpoint, **(request.view_args or {}),
                  **{**query, "limit": limit, "cursor": cursor})
    return {"Link": f'<{url}>; rel="next"', "X-Next-Cursor": cursor}


def respond(page: Page, args: dict[str, Any], carry: Sequence[str] = (),
            body: Any = None) -> tuple[Any, int, dict[str, str]]:
    """A view's answer for a page: `body` (the page's rows unless given), 200, the headers."""
    return (page.rows if body is None else body, 200,
            next_page_headers(page.cursor, args["limit"], carry))
