"""Serve the sandbox in-process on an ephemeral port, for tests, benchmarks and chaos runs."""

from __future__ import annotations

import threading
import time
from typing import Any, Self

import requests
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from ringly.sandbox import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, create_app


class _QuietRequestHandler(WSGIRequestHandler):
    """Skips the per-request access log, which would drown test and benchmark output."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class SandboxServer:
    """A threaded werkzeug server running the sandbox app in a background thread."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        state_file: str | None = None,
        messaging_services: list[str] | None = None,
        quiet: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.state_file = state_file
        self.messaging_services_at_start = list(messaging_services or [])
        self.quiet = quiet
        self.url = ""
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._control = requests.Session()

    def start(self) -> Self:
        app = create_app(
            {
                "SANDBOX_ACCOUNT_SID": self.account_sid,
                "SANDBOX_AUTH_TOKEN": self.auth_token,
                "SANDBOX_STATE_FILE": self.state_file,
                "SANDBOX_MESSAGING_SERVICES": self.messaging_services_at_start,
            }
        )
        self._server = make_server(
            self.host,
            self.port,
            app,
            threaded=True,
            request_handler=_QuietRequestHandler if self.quiet else None,
        )
        self.port = self._server.server_port
        self.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"sandbox-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._control.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- control API -------------------------------------------------------------------

    def _control_call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._control.request(method, f"{self.url}/sandbox/{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()

    def in_flight(self) -> int:
        """Twilio requests the sandbox is still serving (faults with latency keep them busy)."""
        return self._control_call("GET", "faults")["in_flight"]

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no Twilio request is in flight, e.g. after a client gave up early."""
        deadline = time.monotonic() + timeout
        while self.in_flight() > 0:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def reset(self) -> None:
        """Forget every number, message, call and ledger entry, and clear faults."""
        self._control_call("POST", "reset")

    def set_faults(self, **settings: Any) -> dict[str, Any]:
        """Replace the fault settings (see docs/sandbox.md for the keys)."""
        return self._control_call("POST", "faults", json=settings)["faults"]

    def clear_faults(self) -> None:
        self._control_call("DELETE", "faults")

    def ledger(self) -> list[dict[str, Any]]:
        return self._control_call("GET", "ledger")["ledger"]

    def owned_numbers(self) -> list[dict[str, Any]]:
        return self._control_call("GET", "numbers")["numbers"]

    def request_counts(self) -> dict[str, int]:
        """Twilio REST requests received since the last reset, per operation."""
        return self._control_call("GET", "requests")["requests"]

    def clear_request_counts(self) -> None:
        self._control_call("DELETE", "requests")

    def messages(self) -> list[dict[str, Any]]:
        return self._control_call("GET", "messages")["messages"]

    def set_control(self, **settings: Any) -> dict[str, Any]:
        """Change control settings (``carrier_filtering=True``); the others keep their values."""
        return self._control_call("POST", "control", json=settings)["control"]

    def create_messaging_service(self, sid: str | None = None) -> dict[str, Any]:
        body = {"sid": sid} if sid else {}
        return self._control_call("POST", "messaging-services", json=body)["messaging_service"]

    def messaging_services(self) -> dict[str, list[str]]:
        """Each Messaging Service's numbers: {service sid: [phone number, ...]}."""
        services = self._control_call("GET", "messaging-services")["messaging_services"]
        return {service["sid"]: service["phone_numbers"] for service in services}

    def deliver_messages(self) -> list[dict[str, Any]]:
        """Deliver every text still waiting and post its status callbacks; one report each."""
        return self._control_call("POST", "messages/deliver")["delivered"]
