"""Rendering a client's fixed lines ahead of calls, so callers hear ElevenLabs from the start."""
from __future__ import annotations

import logging

from ringly.clients.models import Client
from ringly.db import db
from ringly.voice.tts import RenderFailed, audio_library
from ringly.wording import LOCALES, hours_summary, prompt

log = logging.getLogger(__name__)

# Lines with no per-call values: worth rendering before the first caller needs them.
STATIC_KEYS = (
    "language_menu", "intent_menu", "not_understood", "no_input", "goodbye_no_answer",
    "ask_name", "ask_time", "time_not_understood", "slot_just_taken", "no_alternatives",
    "voicemail", "voicemail_thanks", "voicemail_empty", "connecting", "nobody_available",
)


def static_lines(client: Client) -> list[tuple[str, str]]:
    """Every fixed (text, locale) line a caller of this client may hear."""
    lines = []
    for locale in LOCALES:
        lines.append((client.custom_greeting or prompt(
            "greeting", locale, business=client.business_name), locale))
        lines.append((prompt("hours", locale, hours=hours_summary(
            client.business_hours or {}, locale)), locale))
        lines.extend((prompt(key, locale), locale) for key in STATIC_KEYS)
    return lines


def render_client_prompts(client_id: int) -> int:
    """Render the client's fixed lines that are not cached yet; returns how many were rendered.

    Raises RenderFailed on the first line ElevenLabs refuses (the task retries later)."""
    client = db.session.get(Client, client_id)
    if client is None:
        return 0
    library = audio_library()
    if not library.enabled:
        return 0
    rendered = 0
    for text, locale in static_lines(client):
        if library.is_cached(library.line_hash(text, locale)):
            continue
        library.render(text, locale)
        rendered += 1
    db.session.rollback()
    return rendered


__all__ = ["RenderFailed", "render_client_prompts", "static_lines"]
