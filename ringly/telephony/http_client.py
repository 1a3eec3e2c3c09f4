"""Ringly's twilio HTTP client: base-URL override, explicit timeouts, no retries, fork-safe."""

from __future__ import annotations

import os
import threading
from urllib.parse import urlsplit, urlunsplit

from requests import Session
from requests.adapters import HTTPAdapter
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response


class GatewayHttpClient(TwilioHttpClient):
    """Sends every Twilio request to ``base_url`` when set (the sandbox), else to Twilio.

    It also remembers the last response *per thread* (the library's own
    ``_test_only_last_response`` is shared by all threads), so the gateway can read
    ``Retry-After`` and the status of failed list pages safely under concurrency.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
        pool_size: int = 32,
    ) -> None:
        super().__init__(pool_connections=False)
        # requests takes (connect, read); the base class only type-checks a single float.
        self.timeout = (connect_timeout, read_timeout)  # type: ignore[assignment]
        self.base_url = base_url.rstrip("/") if base_url else None
        self.pool_size = pool_size
        self._session_lock = threading.Lock()
        self._session_pid: int | None = None
        self._thread_state = threading.local()

    def _session_for_this_process(self) -> Session:
        # A session inherited across fork() shares sockets with the parent; make a new one.
        pid = os.getpid()
        if self.session is None or self._session_pid != pid:
            with self._session_lock:
                if self.session is None or self._session_pid != pid:
                    session = Session()
                    # max_retries=0: a retried POST could buy a second number.
                    adapter = HTTPAdapter(
                        pool_connections=4, pool_maxsize=self.pool_size, max_retries=0
                    )
                    session.mount("https://", adapter)
                    session.mount("http://", adapter)
                    self.session = session
                    self._session_pid = pid
        assert self.session is not None
        return self.session

    def rewrite_url(self, url: str) -> str:
        """Swap scheme and host of a ``https://*.twilio.com`` URL for ``base_url``."""
        if not self.base_url:
            return url
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme != "https" or not (host == "twilio.com" or host.endswith(".twilio.com")):
            return url
        base = urlsplit(self.base_url)
        prefix = base.path.rstrip("/")
        return urlunsplit((base.scheme, base.netloc, prefix + parts.path, parts.query, ""))

    @property
    def last_response(self) -> Response | None:
        """The response this thread got last (None after a connection failure)."""
        return getattr(self._thread_state, "response", None)

    def request(self, method: str, url: str, *args, **kwargs) -> Response:  # type: ignore[override]
        self._thread_state.response = None
        self._session_for_this_process()
        response = super().request(method, self.rewrite_url(url), *args, **kwargs)
        self._thread_state.response = response
        return response
