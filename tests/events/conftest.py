"""Event fixtures: a receiver on 127.0.0.1 that answers as told, and the documented verify()."""
from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.provisioning.conftest import prov  # noqa: F401
from tests.support.wsgi_server import free_port

ROOT = Path(__file__).resolve().parents[2]


def documented_verify() -> Callable[..., bool]:
    """The `verify` function exactly as docs/events.md gives it to receivers."""
    text = (ROOT / "docs" / "events.md").read_text()
    block = re.search(r"```python\n(.*?def verify\(.*?)```", text, re.S)
    assert block, "docs/events.md has no Python block defining verify()"
    namespace: dict[str, Any] = {}
    exec(compile(block.group(1), "docs/events.md", "exec"), namespace)  # noqa: S102
    return namespace["verify"]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An event endpoint on 127.0.0.1: records every POST and answers the next status in
    `answers` (200 when none is left). `stop()` closes the port (connections are refused)
    until `start()` opens it again."""

    port: int = field(default_factory=free_port)
    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ringly/events"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    status = receiver.answers.pop(0) if receiver.answers else 200
                    receiver.received.append(
                        Received(self.path, dict(self.headers.items()), body, status))
                answer = b"ok" if status < 300 else b"receiver failed: try again"
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def accepted(self) -> list[Received]:
        """What was answered 2xx, in arrival order."""
        return [item for item in self.snapshot() if item.answered < 300]

    def wait_until(self, condition: Callable[[list[Received]], bool], timeout: float = 60.0,
                   what: str = "") -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            received = self.snapshot()
            if condition(received):
                return received
            time.sleep(0.1)
        raise AssertionError(f"the receiver never got {what}: "
                             f"{[(r.event.get('type'), r.answered) for r in self.snapshot()]}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def verify() -> Callable[..., bool]:
    return documented_verify()


@pytest.fixture
def admin_headers(api_headers: dict[str, str]) -> dict[str, str]:
    return api_headers  # the `api_key` fixture has every scope


def create_endpoint(client: Any, headers: dict[str, str], url: str,
                    events: list[str] | None = None) -> dict[str, Any]:
    response = client.post("/api/event-endpoints", headers=headers,
                           json={"url": url, "events": events or ["*"],
                                 "description": "test receiver"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()
