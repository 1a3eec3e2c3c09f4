"""The audio cache's contents: fixed and per-client lines rendered ahead of calls, and trimmed."""
from __future__ import annotations

import logging
import time

import sqlalchemy as sa

from ringly.clients.models import Client
from ringly.db import db
from ringly.voice.lines import Line, client_lines, static_lines
from ringly.voice.tts import CacheFull, RenderFailed, audio_library

log = logging.getLogger(__name__)

# Never evicted to make room: a clip played this recently may still be in a call's document.
RECENTLY_PLAYED_S = 2 * 3600


def prompt_lines(client: Client) -> list[Line]:
    """Every line a caller of this client may hear that is worth rendering ahead."""
    return [*client_lines(client), *static_lines()]


def render_client_prompts(client_id: int) -> int:
    """Render the client's own and the fixed lines that are not cached yet; returns how many
    were rendered.

    Raises RenderFailed on the first line ElevenLabs refuses (the task retries later), and
    CacheFull when the cache is at its cap."""
    client = db.session.get(Client, client_id)
    if client is None:
        return 0
    library = audio_library()
    if not library.enabled:
        return 0
    rendered = 0
    for text, locale in prompt_lines(client):
        if library.is_cached(library.line_hash(text, locale)):
            continue
        library.render(text, locale)
        rendered += 1
    db.session.rollback()
    return rendered


def render_static_line(text: str, locale: str) -> bool:
    """Render one fixed line a call asked for; any other text is refused (False), so nothing
    with a caller's data is ever sent to ElevenLabs or kept, whoever queued it."""
    library = audio_library()
    if not library.is_static(text, locale):
        log.warning("refused to render a line that is not a fixed line")
        return False
    library.render(text, locale)
    return True


def lines_in_use() -> set[str]:
    """Hashes of every line a prompt may point at now: the fixed lines of every locale and each
    active client's own lines."""
    library = audio_library()
    hashes = {library.line_hash(text, locale) for text, locale in static_lines()}
    clients = db.session.scalars(sa.select(Client).where(Client.active.is_(True))
                                 .execution_options(yield_per=500))
    for client in clients:
        hashes.update(library.line_hash(text, locale) for text, locale in client_lines(client))
    db.session.rollback()
    return hashes


def trim_audio_cache(now: float | None = None) -> dict[str, int]:
    """Evict clips not played for AUDIO_CACHE_RETENTION_DAYS, then the least recently played
    until the store fits AUDIO_CACHE_MAX_MB; never a line in use, nor one played in the last
    two hours. Works on either store (AUDIO_STORE); the directory store also loses the
    half-written files a dead rendering left behind."""
    library = audio_library()
    now = time.time() if now is None else now
    retention = float(library.retention_days) * 86400
    in_use = lines_in_use()
    library.store.remove_leftovers(now)
    clips = library.store.entries()
    total = sum(clip.size for clip in clips)
    # Least recently played first (a clip counts as played when rendered and, hourly, when a
    # call or Twilio's fetch uses it).
    unused = sorted((clip for clip in clips if clip.hash not in in_use),
                    key=lambda clip: clip.played_at)
    evicted = 0
    for clip in unused:
        idle = now - clip.played_at.timestamp()
        stale = idle > retention
        over_cap = total > library.max_bytes and idle > RECENTLY_PLAYED_S
        if not (stale or over_cap):
            continue
        if not library.store.evict(clip):
            continue  # gone already, or played since it was listed
        total -= clip.size
        evicted += 1
    if total > library.max_bytes:
        log.warning("the audio cache holds %d MB, over AUDIO_CACHE_MAX_MB (%d), in lines in "
                    "use or played recently; nothing more is rendered until it fits",
                    total // 2**20, library.max_bytes // 2**20)
    return {"evicted": evicted, "kept": len(clips) - evicted, "bytes": total}


__all__ = ["CacheFull", "RenderFailed", "prompt_lines", "render_client_prompts",
           "render_static_line", "trim_audio_cache"]
