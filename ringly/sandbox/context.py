"""The per-app sandbox services (config, state, faults, controls) and how routes reach them."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from ringly.sandbox.counters import RequestCounter
from ringly.sandbox.faults import FaultInjector
from ringly.sandbox.settings import Controls
from ringly.sandbox.state import SandboxState


@dataclass
class SandboxContext:
    """What every sandbox route needs; one per app instance, never module-global."""

    account_sid: str
    auth_token: str
    state: SandboxState
    faults: FaultInjector
    requests: RequestCounter = field(default_factory=RequestCounter)
    controls: Controls = field(default_factory=Controls)


def sandbox_context() -> SandboxContext:
    return current_app.extensions["ringly_sandbox"]
