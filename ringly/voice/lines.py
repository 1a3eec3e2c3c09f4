"""Which lines ElevenLabs may voice: fixed lines and each client's own, never a caller's data.

A line that carries something a caller said or was told (their name, the time they booked, a
confirmation code, digits read back) is spoken by Polly: rendering it would pay ElevenLabs per
call and fill the cache with personal data that is never played again.
"""
from __future__ import annotations

import string
from typing import Any

from ringly.wording import LOCALES, PROMPTS, hours_summary, prompt

# (text, locale)
Line = tuple[str, str]

# Fixed wording that is never spoken on its own, or only ever by Polly on purpose (the fallback
# runs when something is broken, so it reads neither the cache nor the database).
NOT_RENDERED = frozenset({"closed_all_week", "fallback"})


def _has_placeholders(text: str) -> bool:
    return any(field is not None for _, field, _, _ in string.Formatter().parse(text))


# Every spoken prompt with no placeholder, in every locale: derived, so a new fixed line is
# rendered without anyone remembering to list it, and a new line with values never is.
STATIC_KEYS = tuple(
    key for key, texts in PROMPTS.items()
    if not key.startswith("sms_") and key not in NOT_RENDERED
    and not any(_has_placeholders(text) for text in texts.values())
)


def static_lines() -> list[Line]:
    """Every fixed line a caller of any client may hear, in every locale."""
    return [(prompt(key, locale), locale) for locale in LOCALES for key in STATIC_KEYS]


def client_lines(client: Any) -> list[Line]:
    """A client's own lines (its greeting and its hours) in every locale: they change only when
    the client's settings do."""
    lines = []
    for locale in LOCALES:
        lines.append((client.custom_greeting or prompt(
            "greeting", locale, business=client.business_name), locale))
        lines.append((prompt("hours", locale, hours=hours_summary(
            client.business_hours or {}, locale)), locale))
    return lines
