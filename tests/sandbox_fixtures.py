"""Pytest plugin: a session-wide in-process Twilio sandbox and a fresh-state fixture per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ringly.sandbox.server import SandboxServer


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """One sandbox for the whole session (state persists between tests; see ``sandbox``)."""
    with SandboxServer() as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    """The session sandbox, emptied and with faults cleared before the test."""
    # A request a previous test abandoned (client timeout) may still be running.
    sandbox_server.wait_idle()
    sandbox_server.reset()
    yield sandbox_server
    sandbox_server.clear_faults()
