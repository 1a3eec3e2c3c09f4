"""Rachel's and Lina's voices: ElevenLabs audio from a shared file cache, Polly when not ready.

A webhook only ever looks the audio up (a set lookup, else one file stat); rendering happens in
the `ringly.voice.render_line` task, behind a circuit breaker whose state is a file in the same
cache folder, so every web and worker process on the host sees it.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from flask import Flask, current_app

from ringly import tasks
from ringly.queue import enqueue_after_commit
from ringly.signals import client_wording_changed

log = logging.getLogger(__name__)

POLLY = {"en": ("Polly.Joanna-Neural", "en-US"), "es": ("Polly.Lupe-Neural", "es-US")}
VOICE_SETTINGS = {"stability": 0.5, "similarity_boost": 0.75}
HASH_RE = re.compile(r"^[0-9a-f]{64}$")
BREAKER_FILE = ".elevenlabs-breaker.json"


class RenderFailed(Exception):
    """ElevenLabs did not return audio for a line."""


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
        self.directory = Path(config.get("AUDIO_CACHE_DIR") or Path(app.instance_path) / "audio")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.base_url = config["WEBHOOK_BASE_URL"]
        self.breaker_threshold = int(config.get("ELEVENLABS_BREAKER_THRESHOLD", 3))
        self.breaker_cooldown = float(config.get("ELEVENLABS_BREAKER_COOLDOWN", 60.0))
        # Hashes seen on disk by this process: after the first hit a line costs a set lookup.
        self._known: set[str] = set()
        # Lines this process queued recently, so a busy line is queued once, not per call.
        self._requested: dict[str, float] = {}
        self._breaker_checked = (0.0, False)
        self._hashes: dict[tuple[str, str], str] = {}
        self._celery = app.extensions.get("celery")
        self._outbox: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
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

    def path_for(self, line_hash: str) -> Path:
        return self.directory / f"{line_hash}.mp3"

    def is_cached(self, line_hash: str) -> bool:
        if line_hash in self._known:
            return True
        if self.path_for(line_hash).is_file():
            self._known.add(line_hash)
            return True
        return False

    def audio_url(self, text: str, locale: str) -> str | None:
        """The URL of the line's audio if rendered; otherwise None, and the render is queued."""
        if not self.enabled:
            return None
        line_hash = self.line_hash(text, locale)
        if self.is_cached(line_hash):
            return f"{self.base_url}/audio/{line_hash}.mp3"
        self._request_render(line_hash, text, locale)
        return None

    def _request_render(self, line_hash: str, text: str, locale: str) -> None:
        now = time.monotonic()
        if now - self._requested.get(line_hash, -1e9) < 60 or self.breaker_open():
            return
        if len(self._requested) > 10_000:
            self._requested.clear()
        self._requested[line_hash] = now
        # Handed to a sender thread: the webhook waits on neither ElevenLabs nor the broker.
        self._start_sender()
        self._outbox.put((text, locale))

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
            text, locale = self._outbox.get()
            try:
                self._celery.send_task(tasks.RENDER_LINE, args=(text, locale))
            except Exception:
                # The next call needing the line asks again after the dedupe window.
                log.warning("could not queue the rendering of a line", exc_info=True)

    # -- circuit breaker (shared through the cache folder) -----------------------------------
    def _breaker_state(self) -> dict[str, Any]:
        try:
            return json.loads((self.directory / BREAKER_FILE).read_text())
        except (OSError, ValueError):
            return {"failures": 0, "open_until": 0.0}

    def _write_breaker(self, state: dict[str, Any]) -> None:
        handle, temp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(handle, "w") as out:
            json.dump(state, out)
        os.replace(temp, self.directory / BREAKER_FILE)

    def breaker_open(self) -> bool:
        # Re-read at most once a second per process: cheap for webhooks, quick to notice.
        checked_at, was_open = self._breaker_checked
        now = time.time()
        if now - checked_at < 1.0:
            return was_open
        is_open = self._breaker_state().get("open_until", 0.0) > now
        self._breaker_checked = (now, is_open)
        return is_open

    def record_success(self) -> None:
        if self._breaker_state().get("failures"):
            self._write_breaker({"failures": 0, "open_until": 0.0})

    def record_failure(self) -> None:
        state = self._breaker_state()
        failures = int(state.get("failures", 0)) + 1
        open_until = state.get("open_until", 0.0)
        if failures >= self.breaker_threshold:
            open_until = time.time() + self.breaker_cooldown
            log.warning("ElevenLabs failed %d times; using Polly for %.0f s",
                        failures, self.breaker_cooldown)
        self._write_breaker({"failures": failures, "open_until": open_until})
        self._breaker_checked = (0.0, False)

    # -- rendering (worker side) -------------------------------------------------------------
    def render(self, text: str, locale: str) -> str:
        """Fetch the line from ElevenLabs into the cache (no-op if there); returns its hash."""
        line_hash = self.line_hash(text, locale)
        if self.is_cached(line_hash):
            return line_hash
        if not self.enabled:
            raise RenderFailed("ELEVENLABS_API_KEY is not set")
        if self.breaker_open():
            raise RenderFailed("circuit breaker open")
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
            raise RenderFailed(f"ElevenLabs unreachable: {exc}") from exc
        if response.status_code != 200 or not response.content:
            self.record_failure()
            raise RenderFailed(f"ElevenLabs answered {response.status_code}")
        self.record_success()
        handle, temp = tempfile.mkstemp(dir=self.directory, suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(response.content)
        # Atomic: a web process never serves half a file.
        os.replace(temp, self.path_for(line_hash))
        self._known.add(line_hash)
        return line_hash


def init_app(app: Flask) -> None:
    app.extensions["voice_audio"] = AudioLibrary(app)
    client_wording_changed.connect(queue_client_prompts)


def audio_library() -> AudioLibrary:
    return current_app.extensions["voice_audio"]


def queue_client_prompts(client_id: int, **_signal: object) -> None:
    """Render a client's static lines after the current commit (provisioned, new greeting).

    Without ElevenLabs every line is spoken by Polly, so there is nothing to render."""
    if audio_library().enabled:
        enqueue_after_commit(tasks.RENDER_CLIENT_PROMPTS, client_id)
