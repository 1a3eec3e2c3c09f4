"""Every /api route needs an API key with the scope its operation declares, except the OpenAPI
document and its docs page; an operation that declares no scope is refused to every key."""
from __future__ import annotations

import logging

from flask import Flask, g, request

from ringly.admin.scopes import access_for_request
from ringly.admin.services import authenticate
from ringly.errors import Forbidden

log = logging.getLogger(__name__)

PUBLIC_API_PATHS = ("/api/openapi.json", "/api/docs")


def is_api_path(path: str) -> bool:
    return (path.startswith("/api/") or path == "/api") and not path.startswith(PUBLIC_API_PATHS)


def forget_api_key(error: BaseException | None = None) -> None:
    # An app context pushed before the request (a test's, a CLI command's) shares its `g`
    # with the request: the key must not act beyond the request it came with.
    g.pop("api_key", None)
    g.pop("access", None)


def require_api_key() -> None:
    forget_api_key()
    if not is_api_path(request.path) or request.method == "OPTIONS":
        return
    api_key = g.api_key = authenticate(request.headers.get("Authorization"))
    if request.endpoint is None:
        return  # no such route or method: the 404 or 405 follows
    access = g.access = access_for_request()
    if access is None:
        # Deny by default: a route added without @requires_scope is closed, not open.
        log.error("refused %s %s: its view declares no scope", request.method, request.path)
        raise Forbidden("This operation declares no scope, so no API key may use it.")
    if access.scope is not None and access.scope not in api_key.scope_set:
        raise Forbidden(f"This API key lacks the '{access.scope}' scope this operation needs.",
                        required_scope=access.scope)


def init_app(app: Flask) -> None:
    app.before_request(require_api_key)
    app.teardown_request(forget_api_key)
