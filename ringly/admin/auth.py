"""Every /api route needs an API key, except the OpenAPI document and its docs page."""
from __future__ import annotations

from flask import Flask, g, request

from ringly.admin.services import authenticate

PUBLIC_API_PATHS = ("/api/openapi.json", "/api/docs")


def require_api_key() -> None:
    path = request.path
    if not path.startswith("/api/") and path != "/api":
        return
    if path.startswith(PUBLIC_API_PATHS) or request.method == "OPTIONS":
        return
    g.api_key = authenticate(request.headers.get("Authorization"))


def init_app(app: Flask) -> None:
    app.before_request(require_api_key)
