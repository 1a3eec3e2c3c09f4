"""The audio cache's contents: fixed and per-client lines rendered ahead of calls, and trimmed."""
from __future__ import annotations

import logging
import os
import time

import sqlalchemy as sa

from ringly.clients.models import Client
from ringly.db import db
from ringly.voice.lines import Line, client_lines, static_lines
from ringly.voice.tts import CacheFull, RenderFailed, audio_library

log = logging.getLogger(__name__)

# Never evicted to make room: a file played this recently may still be in a call's document.
RECENTLY_PLAYED_S = 2 * 3600
# A .part or .tmp file this old was left by a rendering that died mid-write.
ABANDONED_AFTER_S = 3600


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
    """Evict files not played for AUDIO_CACHE_RETENTION_DAYS, then the least recently played
    until the cache fits AUDIO_CACHE_MAX_MB; never a line in use, nor one played in the last
    two hours. Also removes half-written files a dead rendering left behind."""
    library = audio_library()
    now = time.time() if now is None else now
    retention = float(library.retention_days) * 86400
    in_use = lines_in_use()
    _remove_abandoned(library.directory, now)
    files = library.cached_files()
    total = sum(stat.st_size for _, stat in files)
    # Least recently played first (the mtime is set when rendered and, hourly, when played).
    unused = sorted(((stat.st_mtime, stat.st_size, name) for name, stat in files
                     if name not in in_use), key=lambda item: item[0])
    evicted = 0
    for played_at, size, name in unused:
        stale = now - played_at > retention
        over_cap = total > library.max_bytes and now - played_at > RECENTLY_PLAYED_S
        if not (stale or over_cap):
            continue
        try:
            os.remove(library.path_for(name))
        except FileNotFoundError:
            continue
        total -= size
        evicted += 1
    if total > library.max_bytes:
        log.warning("the audio cache holds %d MB, over AUDIO_CACHE_MAX_MB (%d), in lines in "
                    "use or played recently; nothing more is rendered until it fits",
                    total // 2**20, library.max_bytes // 2**20)
    return {"evicted": evicted, "kept": len(files) - evicted, "bytes": total}


def _remove_abandoned(directory: os.PathLike[str], now: float) -> None:
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.name.endswith((".part", ".tmp")):
                try:
                    if now - entry.stat().st_mtime > ABANDONED_AFTER_S:
                        os.remove(entry.path)
                except FileNotFoundError:
                    continue


__all__ = ["CacheFull", "RenderFailed", "prompt_lines", "render_client_prompts",
           "render_static_line", "trim_audio_cache"]
