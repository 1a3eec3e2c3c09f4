"""Counts of the Twilio REST requests the sandbox received, per operation, for benchmarks."""

from __future__ import annotations

import threading
from collections import Counter


class RequestCounter:
    """Thread-safe tally; faulted requests count too, since a client paid for each one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def count(self, operation: str) -> None:
        with self._lock:
            self._counts[operation] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
