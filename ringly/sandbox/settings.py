"""Behaviour switches of the sandbox set through POST /sandbox/control (carrier filtering)."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class ControlSettings:
    """How the simulated carriers treat texts; every switch is off after a reset."""

    # US carriers filter texts from local (10DLC) numbers that are not in an A2P-registered
    # Messaging Service: such a text ends `undelivered` with 30034 when delivered.
    carrier_filtering: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any], current: ControlSettings) -> ControlSettings:
        """``current`` with the keys of ``data`` changed (unknown keys and non-booleans refused)."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown control settings: {sorted(unknown)}")
        for name, value in data.items():
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false")
        return cls(**{**asdict(current), **data})


class Controls:
    """The current control settings, shared by every request thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._settings = ControlSettings()

    def update(self, data: dict[str, Any]) -> ControlSettings:
        with self._lock:
            self._settings = ControlSettings.from_json(data, self._settings)
            return self._settings

    def clear(self) -> None:
        with self._lock:
            self._settings = ControlSettings()

    def current(self) -> ControlSettings:
        with self._lock:
            return self._settings

    def as_json(self) -> dict[str, Any]:
        return asdict(self.current())
