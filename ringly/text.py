"""Text from outside (callers, texts, API requests): nothing an XML document cannot carry (a
TwiML document that is not XML is refused by Twilio) and no NUL (PostgreSQL refuses it)."""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from flask import Flask, request

from ringly.db import ADDRESS_LENGTH, MAX_ROW_ID
from ringly.errors import InvalidInput

# Control characters but tab and line breaks, U+FFFE and U+FFFF, written as escapes that
# Python's `re`, ECMA-262 and Rust's regex (OpenAPI tools) all read alike...
_CONTROL = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufffe\uffff"
# ...and lone surrogates (not Unicode text at all, and no JSON Schema engine can name them).
_NOT_XML = re.compile(f"[{_CONTROL}\\ud800-\\udfff]")
UNSAFE_MESSAGE = "Must not contain control characters."
# The OpenAPI document states the rule on every free-text field and query parameter, so what
# refuse_unsafe_api_input refuses is what the document forbids.
PLAIN_TEXT = {"pattern": f"^[^{_CONTROL}]*$"}


def plain_text(value: str | None, limit: int) -> str:
    """What a caller said, pressed or texted, made safe to keep and to speak back: characters
    XML cannot carry become spaces; at most `limit` characters, trimmed."""
    if not value:
        return ""
    return _NOT_XML.sub(" ", value[: limit * 2])[:limit].strip()


def normalise(text: str) -> str:
    """Lower case, accents stripped, punctuation to spaces: "¡Sí!" -> "si"."""
    folded = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^a-z0-9: ]", " ", plain).split())


def address(value: str | None) -> str | None:
    """Twilio's From or To as a column can keep it (a phone number, SIP URI or client name)."""
    return plain_text(value, ADDRESS_LENGTH) or None


def whole_number(raw: Any) -> int | None:
    """A count from a webhook (seconds, a sequence number, an error code) that an Integer
    column can hold, else None: "abc", "²", "-1" and "99999999999" are all None."""
    text = str(raw).strip() if raw is not None else ""
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= MAX_ROW_ID else None


def unsafe_fields(value: Any, path: str = "") -> list[str]:
    """Where in a JSON document (dotted paths) a key or string holds such a character."""
    if isinstance(value, str):
        return [path or "body"] if _NOT_XML.search(value) else []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            found += [where] if _NOT_XML.search(str(key)) else unsafe_fields(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += unsafe_fields(item, f"{path}.{index}" if path else str(index))
    return found


def refuse_unsafe_api_input() -> None:
    """An API request whose query or JSON body carries such a character is a 422 problem that
    names each place, before any view (or the database) sees it."""
    if not request.path.startswith("/api/"):
        return
    places = [name for name, value in request.args.items(multi=True)
              if _NOT_XML.search(name) or _NOT_XML.search(value)]
    if request.is_json:
        places += unsafe_fields(request.get_json(silent=True))
    if places:
        raise InvalidInput("Text may not contain control characters.",
                           errors={place: [UNSAFE_MESSAGE] for place in places})


def init_app(app: Flask) -> None:
    app.before_request(refuse_unsafe_api_input)
