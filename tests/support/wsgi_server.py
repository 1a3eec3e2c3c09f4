"""Serve a WSGI app over real HTTP on an ephemeral loopback port, in a background thread."""
from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

from werkzeug.serving import make_server


class LiveServer:
    """Binds first (so the URL is known before the app is built), serves once given an app."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._app: Callable[..., Any] | None = None
        self._server = make_server(host, 0, self._dispatch, threaded=True)
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread: threading.Thread | None = None

    def _dispatch(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self._app is not None, "LiveServer.serve() was not called"
        return self._app(environ, start_response)

    def serve(self, app: Callable[..., Any]) -> LiveServer:
        self._app = app
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def free_port() -> int:
    """A loopback port nobody listens on right now (for processes that bind it themselves)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
