"""A gateway HTTP client that keeps every raw response, so tests can validate what was served."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from twilio.http.response import Response

from ringly.telephony.http_client import GatewayHttpClient


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    status: int
    body: str


class RecordingHttpClient(GatewayHttpClient):
    """GatewayHttpClient that also appends each (method, path, status, body) it saw."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.exchanges: list[Exchange] = []
        self._record_lock = threading.Lock()

    def request(self, method: str, url: str, *args, **kwargs) -> Response:  # type: ignore[override]
        response = super().request(method, url, *args, **kwargs)
        with self._record_lock:
            self.exchanges.append(
                Exchange(method.upper(), urlsplit(url).path, response.status_code, response.text)
            )
        return response


def spec_path_for(path: str, spec_paths: list[str]) -> str:
    """The spec's path template that ``path`` instantiates (fewest placeholders wins)."""
    matches = []
    for template in spec_paths:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            matches.append((template.count("{"), template))
    assert matches, f"no spec path matches {path}"
    return min(matches)[1]
