"""The ElevenLabs circuit breaker, seen by every process that renders audio or queues renders.

In Redis when Ringly has one (`REDIS_URL`, else a `redis://` broker), so every web and worker host
sees one state; else a small file in the audio folder, which every process of one machine shares
(the embedded default, or a deployment with neither a Redis broker nor `REDIS_URL`).
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import redis

from ringly.queue import shared_redis_url

log = logging.getLogger(__name__)

BREAKER_FILE = ".elevenlabs-breaker.json"
# Each process re-reads the shared state at most this often: cheap, and quick to notice.
RECHECK_S = 1.0


class Breaker(Protocol):
    def is_open(self) -> bool: ...
    def record_success(self) -> None: ...
    def record_failure(self) -> None: ...
    def describe(self) -> str: ...


class _Recheck:
    """The last answer of `is_open`, reused for RECHECK_S."""

    def __init__(self) -> None:
        self._checked = (0.0, False)

    def cached(self) -> bool | None:
        checked_at, was_open = self._checked
        return was_open if time.time() - checked_at < RECHECK_S else None

    def remember(self, is_open: bool) -> bool:
        self._checked = (time.time(), is_open)
        return is_open

    def forget(self) -> None:
        self._checked = (0.0, False)


class RedisBreaker:
    """Two keys: the count of failed renders in a row, and `open` while the breaker is open
    (it expires after the cool-down, so nobody has to close it)."""

    def __init__(self, url: str, prefix: str, threshold: int, cooldown: float) -> None:
        # Short timeouts: a hung Redis must not hold a render (or the queueing thread) long.
        self._redis = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._failures = f"{prefix}:elevenlabs-breaker:failures"
        self._open = f"{prefix}:elevenlabs-breaker:open"
        self.threshold = threshold
        self.cooldown = cooldown
        self._recheck = _Recheck()

    def is_open(self) -> bool:
        cached = self._recheck.cached()
        if cached is not None:
            return cached
        try:
            is_open = bool(self._redis.exists(self._open))
        except redis.RedisError as error:
            # Rendering goes on; ElevenLabs failures are still retried with backoff by the task.
            log.warning("cannot read the ElevenLabs breaker from Redis (%s); taken as closed",
                        error)
            is_open = False
        return self._recheck.remember(is_open)

    def record_success(self) -> None:
        try:
            if self._redis.get(self._failures):
                self._redis.delete(self._failures, self._open)
        except redis.RedisError as error:
            log.warning("cannot reset the ElevenLabs breaker in Redis (%s)", error)

    def record_failure(self) -> None:
        try:
            failures = int(self._redis.incr(self._failures))
            if failures >= self.threshold:
                self._redis.set(self._open, "1", px=max(1, int(self.cooldown * 1000)))
                log.warning("ElevenLabs failed %d times; using Polly for %.0f s",
                            failures, self.cooldown)
        except redis.RedisError as error:
            log.warning("cannot record an ElevenLabs failure in Redis (%s)", error)
        self._recheck.forget()

    def describe(self) -> str:
        failures = self._redis.get(self._failures)
        open_ms = self._redis.pttl(self._open)
        return (f"Redis: {int(failures or 0)} failures in a row, "
                + (f"open for {open_ms / 1000:.1f} s more" if open_ms > 0 else "closed"))


class FileBreaker:
    """A JSON file `{"failures": n, "open_until": unix seconds}` replaced atomically."""

    def __init__(self, path: Path, threshold: int, cooldown: float) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.threshold = threshold
        self.cooldown = cooldown
        self._recheck = _Recheck()

    def _state(self) -> dict[str, Any]:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {"failures": 0, "open_until": 0.0}

    def _write(self, state: dict[str, Any]) -> None:
        handle, temp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        with os.fdopen(handle, "w") as out:
            json.dump(state, out)
        os.replace(temp, self.path)

    def is_open(self) -> bool:
        cached = self._recheck.cached()
        if cached is not None:
            return cached
        return self._recheck.remember(self._state().get("open_until", 0.0) > time.time())

    def record_success(self) -> None:
        if self._state().get("failures"):
            self._write({"failures": 0, "open_until": 0.0})

    def record_failure(self) -> None:
        state = self._state()
        failures = int(state.get("failures", 0)) + 1
        open_until = state.get("open_until", 0.0)
        if failures >= self.threshold:
            open_until = time.time() + self.cooldown
            log.warning("ElevenLabs failed %d times; using Polly for %.0f s",
                        failures, self.cooldown)
        self._write({"failures": failures, "open_until": open_until})
        self._recheck.forget()

    def describe(self) -> str:
        state = self._state()
        left = float(state.get("open_until", 0.0)) - time.time()
        return (f"file {self.path}: {int(state.get('failures', 0))} failures in a row, "
                + (f"open for {left:.1f} s more" if left > 0 else "closed"))


def make_breaker(config: Mapping[str, Any], directory: Path) -> RedisBreaker | FileBreaker:
    threshold = int(config.get("ELEVENLABS_BREAKER_THRESHOLD", 3))
    cooldown = float(config.get("ELEVENLABS_BREAKER_COOLDOWN", 60.0))
    url = shared_redis_url(config)
    if url is not None:
        return RedisBreaker(url, config["REDIS_KEY_PREFIX"], threshold, cooldown)
    return FileBreaker(directory / BREAKER_FILE, threshold, cooldown)
