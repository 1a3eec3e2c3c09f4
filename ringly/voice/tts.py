"""Rachel's and Lina's voices: ElevenLabs audio from a shared store, Polly when not ready.

Only fixed lines and each client's own lines are ever rendered (see `ringly.voice.lines`); a line
with a caller's data is Polly's. A webhook only ever looks the audio up (a dict lookup, else the
store's cheap check at most once per line per hour, which also marks it played for the cache's
eviction); rendering happens in tasks. The audio is in PostgreSQL or a folder
(`ringly.voice.audio_store`), the circuit breaker in Redis or a file (`ringly.voice.breaker`), so
every web and worker process sees the same audio and the same breaker.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import requests
from flask import Flask, current_app

from ringly import metrics, tasks
from ringly.queue import enqueue_after_commit
from ringly.signals import client_wording_changed
from ringly.voice.audio_store import make_store
from ringly.voice.breaker import make_breaker
from ringly.voice.lines import client_lines, static_lines

log = logging.getLogger(__name__)

POLLY = {"en": ("Polly.Joanna-Neural", "en-US"), "es": ("Polly.Lupe-Neural", "es-US")}
VOICE_SETTINGS = {"stability": 0.5, "similarity_boost": 0.75}
# A line a webhook found is looked up again in the store (and marked played) at most this often
# per process; the cache's eviction counts a clip as unused from that mark.
PLAYED_EVERY_S = 3600.0
# A queued rendering is asked for again at most this often per line (or client) per process.
REQUEST_EVERY_S = 60.0

AudioUrl = Callable[[str, str], "str | None"]


class RenderFailed(Exception):
    """ElevenLabs did not return audio for a line."""


class CacheFull(Exception):
    """The audio cache is at AUDIO_CACHE_MAX_MB: nothing more is rendered until it is trimmed."""


def _polly_only(text: str, locale: str) -> str | None:
    return None


@dataclass(frozen=True)
class Voice:
    voice_id: str
    model_id: str


class AudioLibrary:
    """Where rendered lines live and how a webhook asks for one without waiting."""

    def __init__(self, app: Flask) -> None:
        config = app.config
        self.enabled = bool(config.get("ELEVENLABS_API_KEY"))
        self.api_key = config.get("ELEVENLABS_API_KEY")
        self.api_base = config["ELEVENLABS_API_BASE_URL"].rstrip("/")
        self.timeout = float(config.get("ELEVENLABS_TIMEOUT", 10.0))
        self.voices = {
            "en": Voice(config["ELEVENLABS_RACHEL_VOICE_ID"], config["ELEVENLABS_MODEL_ID"]),
            "es": Voice(config["ELEVENLABS_LINA_VOICE_ID"], config["ELEVENLABS_MODEL_ID"]),
        }
        # The folder of the directory store, and of the breaker's file when there is no Redis.
        directory = Path(config.get("AUDIO_CACHE_DIR") or Path(app.instance_path) / "audio")
        self.store = make_store(app, directory)
        self.breaker = make_breaker(config, directory)
        self.base_url = config["WEBHOOK_BASE_URL"]
        self.max_bytes = int(float(config.get("AUDIO_CACHE_MAX_MB", 1024)) * 1024 * 1024)
        self.retention_days = float(config.get("AUDIO_CACHE_RETENTION_DAYS", 30))
        self.static = frozenset(static_lines())
        # Hash -> when this process last found (and marked played) its audio: after that, a line
        # costs a dict lookup for an hour.
        self._played: dict[str, float] = {}
        # Renderings this process queued recently, so a busy line is queued once, not per call.
        self._requested: dict[str | int, float] = {}
        self._hashes: dict[tuple[str, str], str] = {}
        self._client_lines: dict[tuple[Any, Any], frozenset[tuple[str, str]]] = {}
        self._celery = app.extensions.get("celery")
        self._outbox: queue.SimpleQueue[tuple[str, tuple[Any, ...]]] = queue.SimpleQueue()
        self._sender_pid = 0
        self._sender_lock = threading.Lock()

    # -- lookups (webhook side) --------------------------------------------------------------
    def line_hash(self, text: str, locale: str) -> str:
        known = self._hashes.get((text, locale))
        if known is not None:
            return known
        voice = self.voices[locale]
        key = json.dumps([text, voice.voice_id, voice.model_id, VOICE_SETTINGS], sort_keys=True)
        line_hash = hashlib.sha256(key.encode()).hexdigest()
        if len(self._hashes) > 50_000:
            self._hashes.clear()
        self._hashes[(text, locale)] = line_hash
        return line_hash

    def is_cached(self, line_hash: str) -> bool:
        """Whether the line's audio is stored now (asks the store; for workers and tests)."""
        return self.store.exists(line_hash)

    def is_static(self, text: str, locale: str) -> bool:
        return (text, locale) in self.static

    def _played_recently(self, line_hash: str, now: float) -> bool:
        return now - self._played.get(line_hash, -math.inf) < PLAYED_EVERY_S

    def _remember_played(self, line_hash: str, now: float) -> None:
        if len(self._played) > 50_000:
            self._played.clear()
        self._played[line_hash] = now

    def playable(self, line_hash: str) -> bool:
        """Whether the line's audio is stored, marking it played; the store is asked at most
        once an hour per line and process (a webhook must not wait on the disk or database)."""
        now = time.monotonic()
        found = self._played_recently(line_hash, now) or self._find_and_mark(line_hash, now)
        metrics.count_tts_lookup(found)
        return found

    def _find_and_mark(self, line_hash: str, now: float) -> bool:
        if not self.store.find_and_mark(line_hash):
            self._played.pop(line_hash, None)
            return False
        self._remember_played(line_hash, now)
        return True

    def audio_source(self, line_hash: str) -> Path | BinaryIO | None:
        """The line's audio to serve (a file, or the bytes from the database), marking it played
        at most once an hour per process; None when it is not stored."""
        source = self.store.source(line_hash)
        if source is None:
            self._played.pop(line_hash, None)
            return None
        now = time.monotonic()
        if not self._played_recently(line_hash, now):
            self.store.mark_played(line_hash)
            self._remember_played(line_hash, now)
        return source

    def audio_url(self, text: str, locale: str) -> str | None:
        """The URL of a fixed line's audio if rendered; otherwise None, and the rendering is
        queued. Any other line is Polly's (see `voice_for` for a client's own lines)."""
        if not self.enabled or (text, locale) not in self.static:
            return None
        line_hash = self.line_hash(text, locale)
        if self.playable(line_hash):
            return f"{self.base_url}/audio/{line_hash}.mp3"
        self._request(line_hash, "line", (text, locale))
        return None

    def voice_for(self, client: Any | None) -> AudioUrl:
        """How a call to `client` voices a line: fixed lines and the client's own lines from the
        cache; a line with a caller's data (name, time, code, digits) is Polly's, and is never
        looked up, queued or cached."""
        if not self.enabled:
            return _polly_only
        own: set[tuple[str, str]] | None = None

        def audio_url(text: str, locale: str) -> str | None:
            nonlocal own
            if (text, locale) in self.static:
                return self.audio_url(text, locale)
            if client is None:
                return None
            if own is None:  # looked up once per turn, and only when a non-fixed line is said
                own = self._own_lines(client)
            if (text, locale) not in own:
                return None
            line_hash = self.line_hash(text, locale)
            if self.playable(line_hash):
                return f"{self.base_url}/audio/{line_hash}.mp3"
            # Normally rendered when the client was provisioned or changed; this catches a
            # rendering that failed then.
            self._request(client.id, "client", (client.id,))
            return None

        return audio_url

    def _own_lines(self, client: Any) -> frozenset[tuple[str, str]]:
        # A client's lines change with its settings, and so with its updated_at: worked out once
        # per change in each process, not on every turn that says a caller's name.
        key = (client.id, client.updated_at)
        lines = self._client_lines.get(key)
        if lines is None:
            lines = frozenset(client_lines(client))
            if None not in key:
                if len(self._client_lines) > 10_000:
                    self._client_lines.clear()
                self._client_lines[key] = lines
        return lines

    def _request(self, key: str | int, kind: str, args: tuple[Any, ...]) -> None:
        now = time.monotonic()
        if now - self._requested.get(key, -math.inf) < REQUEST_EVERY_S:
            return
        if len(self._requested) > 10_000:
            self._requested.clear()
        self._requested[key] = now
        # Handed to a sender thread: the webhook waits on neither ElevenLabs nor the broker.
        self._start_sender()
        self._outbox.put((kind, args))

    def _start_sender(self) -> None:
        if self._sender_pid == os.getpid():
            return
        with self._sender_lock:
            if self._sender_pid != os.getpid():  # first use in this (perhaps forked) process
                self._outbox = queue.SimpleQueue()
                threading.Thread(target=self._send_renders, name="tts-render-queue",
                                 daemon=True).start()
                self._sender_pid = os.getpid()

    def _send_renders(self) -> None:
        while True:
            kind, args = self._outbox.get()
            try:
                # Asked here, not in the webhook: the breaker may live in Redis.
                if self.breaker_open():
                    continue
                if kind == "client":
                    self._celery.send_task(tasks.RENDER_CLIENT_PROMPTS, args=args)
                else:
                    self._celery.send_task(tasks.RENDER_LINE, args=args)
            except Exception:
                # The next call needing the line asks again after the dedupe window.
                log.warning("could not queue the rendering of a line", exc_info=True)

    # -- circuit breaker (shared through Redis, or a file) ----------------------------------
    def breaker_open(self) -> bool:
        return self.breaker.is_open()

    def breaker_state(self) -> str:
        """`off` (no ElevenLabs key: every line is Polly), `open` (renders failed: Polly for
        now) or `closed` (ElevenLabs in use), for the operator's console."""
        if not self.enabled:
            return "off"
        return "open" if self.breaker.is_open() else "closed"

    def record_success(self) -> None:
        self.breaker.record_success()

    def record_failure(self) -> None:
        self.breaker.record_failure()

    # -- rendering (worker side) -------------------------------------------------------------
    def render(self, text: str, locale: str) -> str:
        """Fetch the line from ElevenLabs into the store (no-op if there); returns its hash."""
        line_hash = self.line_hash(text, locale)
        if self.is_cached(line_hash):
            return line_hash
        if not self.enabled:
            raise RenderFailed("ELEVENLABS_API_KEY is not set")
        if self.breaker_open():
            raise RenderFailed("circuit breaker open")
        # Checked before paying ElevenLabs for audio that could not be kept.
        if self.cache_bytes() >= self.max_bytes:
            raise CacheFull(f"the audio cache holds {self.max_bytes // 2**20} MB or more")
        voice = self.voices[locale]
        try:
            response = requests.post(
                f"{self.api_base}/v1/text-to-speech/{voice.voice_id}",
                params={"output_format": "mp3_44100_128"},
                headers={"xi-api-key": self.api_key, "Accept": "audio/mpeg"},
                json={"text": text, "model_id": voice.model_id, "voice_settings": VOICE_SETTINGS},
                timeout=(3.05, self.timeout),
            )
        except requests.RequestException as exc:
            self.record_failure()
            metrics.count_tts_render("unreachable")
            raise RenderFailed(f"ElevenLabs unreachable: {exc}") from exc
        if response.status_code != 200 or not response.content:
            self.record_failure()
            metrics.count_tts_render("failed")
            raise RenderFailed(f"ElevenLabs answered {response.status_code}")
        self.record_success()
        metrics.count_tts_render("rendered")
        self.store.put(line_hash, locale, response.content)
        return line_hash

    def cache_bytes(self) -> int:
        return self.store.total_bytes()


def init_app(app: Flask) -> None:
    library = app.extensions["voice_audio"] = AudioLibrary(app)
    # Read from the shared breaker (Redis or its file) at each scrape: every host sees it.
    metrics.watch_state(app, "ringly_tts_breaker_open", "1 while the ElevenLabs circuit "
                        "breaker is open (every line is Polly's), else 0",
                        lambda: float(library.breaker_open()))
    client_wording_changed.connect(queue_client_prompts)


def audio_library() -> AudioLibrary:
    return current_app.extensions["voice_audio"]


def queue_client_prompts(client_id: int, **_signal: object) -> None:
    """Render a client's static lines after the current commit (provisioned, new greeting).

    Without ElevenLabs every line is spoken by Polly, so there is nothing to render."""
    if audio_library().enabled:
        enqueue_after_commit(tasks.RENDER_CLIENT_PROMPTS, client_id)
