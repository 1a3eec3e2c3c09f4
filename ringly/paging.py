"""Pages for the list routes that answer a JSON array: `limit` and `cursor` in, `Link` out.

The cursor is opaque to clients: the sort key of the last row served, so a page never repeats
or skips a row when rows are added meanwhile (keyset paging). The next page's URL is sent in a
`Link: <...>; rel="next"` header (RFC 8288) and as `X-Next-Cursor`; the last page has neither.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any

from flask import request, url_for
from marshmallow import Schema, fields, validate

from ringly.db import MAX_ROW_ID
from ringly.errors import InvalidInput

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

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
    cursor = fields.String(metadata={"description": "from the previous page's `Link` header"})


def encode_cursor(*key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def row_id(value: Any) -> int:
    """A cursor part that is a row id: an int an id column can hold."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ROW_ID:
        raise ValueError("not a row id")
    return value


def id_cursor(args: dict[str, Any]) -> int | None:
    """The row id in the `cursor` of a list paged by id, None on the first page."""
    return decode_cursor(args["cursor"], row_id)[0] if args.get("cursor") else None


def decode_cursor(token: str, *types: Callable[[Any], Any]) -> tuple[Any, ...]:
    """The sort key in a cursor, each part passed through its type; a 422 problem otherwise."""
    try:
        parts = json.loads(base64.urlsafe_b64decode(token.encode()))
        if not isinstance(parts, list) or len(parts) != len(types):
            raise ValueError("wrong shape")
        return tuple(kind(part) for kind, part in zip(types, parts, strict=True))
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        raise InvalidInput("The cursor is not one this API gave out.",
                           errors={"cursor": ["Not a cursor from a previous page."]}) from None


def page(rows: Sequence[Any], limit: int, key: Callable[[Any], tuple[Any, ...]],
         carry: Sequence[str] = ()) -> tuple[list[Any], int, dict[str, str]]:
    """Serve `rows` (fetched with `limit + 1`) as one page: the view's (body, status, headers).
    The next page's URL keeps the query arguments named in `carry` (filters) as they came."""
    served = list(rows[:limit])
    headers: dict[str, str] = {}
    if len(rows) > limit:
        cursor = encode_cursor(*key(served[-1]))
        query = {name: request.args[name] for name in carry if name in request.args}
        url = url_for(request.endpoint, **(request.view_args or {}),
                      **{**query, "limit": limit, "cursor": cursor})
        headers = {"Link": f'<{url}>; rel="next"', "X-Next-Cursor": cursor}
    return served, 200, headers
