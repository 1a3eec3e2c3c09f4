"""Text a caller produced (speech results, keys, texts, transcriptions), made safe to keep and
to speak back: nothing XML 1.0 forbids, no NUL (PostgreSQL refuses it), bounded length."""
from __future__ import annotations

import re

# Control characters but tab and line breaks, lone surrogates, U+FFFE and U+FFFF: none of them
# may appear in an XML document, and a TwiML document that is not XML is refused by Twilio.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def plain_text(value: str | None, limit: int) -> str:
    """`value` without characters XML cannot carry (each becomes a space), at most `limit`
    characters long, trimmed."""
    if not value:
        return ""
    return _NOT_XML.sub(" ", value[: limit * 2])[:limit].strip()
