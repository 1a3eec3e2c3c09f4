"""Injected faults for Twilio routes: latency, 429/5xx, dropped connections, lost responses."""

from __future__ import annotations

import random
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from typing import Any

OPERATIONS = (
    "search", "purchase", "list", "fetch", "update", "release", "message", "messaging_service",
    "tts",
)
DROP_FLAG = "ringly.sandbox.drop_connection"


@dataclass
class FaultSettings:
    """What to inject; all rates are fractions in [0, 1] rolled per request."""

    latency_ms: int = 0
    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_503: float = 0.0
    rate_drop: float = 0.0
    rate_purchase_lost: float = 0.0
    lost_response_delay_s: float = 0.0
    retry_after_s: float = 1.0
    max_in_flight: int | None = None
    only: list[str] | None = None
    seed: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultSettings:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        settings = cls(**data)
        for name in ("rate_429", "rate_500", "rate_503", "rate_drop", "rate_purchase_lost"):
            value = float(getattr(settings, name))
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
            setattr(settings, name, value)
        if settings.only is not None:
            bad = set(settings.only) - set(OPERATIONS)
            if bad:
                raise ValueError(f"unknown operations in 'only': {sorted(bad)}")
        if settings.max_in_flight is not None and int(settings.max_in_flight) < 1:
            raise ValueError("max_in_flight must be at least 1")
        return settings

    def applies_to(self, operation: str) -> bool:
        return self.only is None or operation in self.only


@dataclass(frozen=True)
class FaultDecision:
    """What one request gets: extra latency, then either a fault or normal service."""

    latency_s: float = 0.0
    fault: str | None = None  # "429" | "500" | "503" | "drop" | None
    retry_after_s: float = 1.0
    counted: bool = False  # whether this request holds an in-flight slot


class FaultInjector:
    """Rolls faults per request from a seedable RNG and counts requests in flight."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._settings = FaultSettings()
        self._rng = random.Random()
        self._in_flight = 0

    def configure(self, data: dict[str, Any]) -> FaultSettings:
        settings = FaultSettings.from_json(data)
        with self._lock:
            self._settings = settings
            self._rng = random.Random(settings.seed)
        return settings

    def clear(self) -> None:
        self.configure({})

    def settings(self) -> dict[str, Any]:
        with self._lock:
            return asdict(self._settings)

    def enter(self, operation: str) -> FaultDecision:
        """Admit one request of ``operation``; pair with ``leave`` when it ends."""
        with self._lock:
            settings = self._settings
            if not settings.applies_to(operation):
                return FaultDecision()
            self._in_flight += 1
            latency = settings.latency_ms / 1000.0
            if settings.max_in_flight is not None and self._in_flight > settings.max_in_flight:
                # Twilio rejects over-concurrency at once; a rejected request holds no slot.
                self._in_flight -= 1
                return FaultDecision(0.0, "429", settings.retry_after_s, counted=False)
            roll = self._rng.random()
            threshold = 0.0
            for fault, rate in (
                ("429", settings.rate_429),
                ("500", settings.rate_500),
                ("503", settings.rate_503),
                ("drop", settings.rate_drop),
            ):
                threshold += rate
                if roll < threshold:
                    return FaultDecision(latency, fault, settings.retry_after_s, counted=True)
            return FaultDecision(latency, None, settings.retry_after_s, counted=True)

    def leave(self, decision: FaultDecision) -> None:
        if decision.counted:
            with self._lock:
                self._in_flight -= 1

    def purchase_response_lost(self) -> tuple[bool, float]:
        """Roll whether a committed purchase loses its response, and how long to stall first."""
        with self._lock:
            settings = self._settings
            if not settings.applies_to("purchase") or settings.rate_purchase_lost <= 0:
                return False, 0.0
            return self._rng.random() < settings.rate_purchase_lost, settings.lost_response_delay_s

    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight


class DropConnectionMiddleware:
    """WSGI wrapper that closes the client socket, unanswered, when a view flags the request.

    Raising ConnectionAbortedError out of the WSGI app makes werkzeug's server treat the
    request as a dropped connection and write nothing, so the client sees a reset or
    RemoteDisconnected exactly as with a network failure.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        result = self.app(environ, start_response)
        if not environ.get(DROP_FLAG):
            return result
        close = getattr(result, "close", None)
        if close is not None:
            close()
        connection = environ.get("werkzeug.socket")
        if connection is not None:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # the client may already be gone; dropping is the goal anyway
        raise ConnectionAbortedError("sandbox fault: connection dropped")
