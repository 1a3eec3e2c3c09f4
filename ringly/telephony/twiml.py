"""The one way a TwiML document leaves Ringly: built by the twilio library, served as text/xml."""
from __future__ import annotations

import json

from flask import Response
from twilio.twiml import TwiML

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
# ElementTree's escaping, in its order (a `in` test first: most lines need none).
_TEXT = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_ATTRIBUTE = (*_TEXT, ('"', "&quot;"), ("\r", "&#13;"), ("\n", "&#10;"), ("\t", "&#09;"))


def twiml(document: TwiML | str) -> Response:
    """Serve a TwiML document; the body starts with `<?xml` (Twilio rejects anything else)."""
    body = document if isinstance(document, str) else to_text(document)
    return Response(body, status=200, mimetype="text/xml")


def to_text(document: TwiML) -> str:
    """The document as `str(document)` writes it, byte for byte, without building an
    ElementTree first (that took a webhook turn longer than its database work).

    tests/telephony/test_twiml.py compares the two on every kind of document Ringly builds."""
    parts = [DECLARATION]
    _write(document, parts)
    text = "".join(parts)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: ElementTree writes it as a character reference
        return str(document)
    return text


def _write(node: TwiML, parts: list[str]) -> None:
    # The twilio library's TwiML.xml(): attributes sorted, booleans lower-case, a dict value as
    # JSON, a string child is the text (or the previous element's tail), and ElementTree's
    # escaping and `<Name />` for an element with neither text nor children.
    name = node.name
    parts.append("<" + name)
    attributes = node.attrs
    for key in sorted(attributes):
        value = attributes[key]
        value = str(value).lower() if isinstance(value, bool) else str(value)
        parts.append(f' {key}="{_escaped(value, _ATTRIBUTE)}"')
    text = node.value or None
    if isinstance(text, dict):
        text = json.dumps(text)
    children: list[tuple[TwiML, str | None]] = []
    for verb in node.verbs:
        if isinstance(verb, str):
            if children:
                children[-1] = (children[-1][0], verb)
            else:
                text = verb
        else:
            children.append((verb, None))
    if not text and not children:
        parts.append(" />")
        return
    parts.append(">")
    if text:
        parts.append(_escaped(text, _TEXT))
    for child, tail in children:
        _write(child, parts)
        if tail:
            parts.append(_escaped(tail, _TEXT))
    parts.append(f"</{name}>")


def _escaped(text: str, replacements: tuple[tuple[str, str], ...]) -> str:
    for character, entity in replacements:
        if character in text:
            text = text.replace(character, entity)
    return text
