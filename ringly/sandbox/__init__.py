"""A stateful local Twilio (REST 2010-04-01 and Messaging v1 subsets) and a control API."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, Response, request

from ringly.sandbox.context import SandboxContext
from ringly.sandbox.errors import not_found
from ringly.sandbox.faults import DropConnectionMiddleware, FaultInjector
from ringly.sandbox.resources import SERVICE_SID
from ringly.sandbox.state import SandboxState

DEFAULT_ACCOUNT_SID = "AC" + "5a" * 16
DEFAULT_AUTH_TOKEN = "sandbox-auth-token"

_DEFAULTS = {
    "SANDBOX_ACCOUNT_SID": DEFAULT_ACCOUNT_SID,
    "SANDBOX_AUTH_TOKEN": DEFAULT_AUTH_TOKEN,
    "SANDBOX_STATE_FILE": None,
    # Comma-separated Messaging Service SIDs that exist from the start and after every reset.
    "SANDBOX_MESSAGING_SERVICES": "",
}


def _service_sids(raw: str | list[str] | tuple[str, ...]) -> list[str]:
    values = raw.split(",") if isinstance(raw, str) else list(raw)
    sids = [value.strip() for value in values if value and value.strip()]
    bad = [sid for sid in sids if not SERVICE_SID.match(sid)]
    if bad:
        raise ValueError(f"SANDBOX_MESSAGING_SERVICES: not Messaging Service SIDs: {bad}")
    return sids


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the sandbox app; each setting comes from ``config``, else the env, else a default."""
    from ringly.sandbox import messages, numbers, tts  # noqa: F401  (registers routes)
    from ringly.sandbox.calls_api import calls_api
    from ringly.sandbox.control import control_api, problem
    from ringly.sandbox.messaging_services import messaging_api
    from ringly.sandbox.rest import twilio_api

    app = Flask(__name__)
    given = config or {}
    for key, default in _DEFAULTS.items():
        app.config[key] = given.get(key, os.environ.get(key, default))
    app.config.update({k: v for k, v in given.items() if k not in _DEFAULTS})

    app.extensions["ringly_sandbox"] = SandboxContext(
        account_sid=app.config["SANDBOX_ACCOUNT_SID"],
        auth_token=app.config["SANDBOX_AUTH_TOKEN"],
        state=SandboxState(
            app.config["SANDBOX_ACCOUNT_SID"],
            app.config["SANDBOX_STATE_FILE"],
            preset_services=_service_sids(app.config["SANDBOX_MESSAGING_SERVICES"]),
        ),
        faults=FaultInjector(),
    )
    app.register_blueprint(twilio_api)
    app.register_blueprint(messaging_api)
    app.register_blueprint(tts.tts_api)
    app.register_blueprint(control_api)
    app.register_blueprint(calls_api)

    @app.errorhandler(404)
    def render_not_found(_error: Exception) -> Response:
        if request.path.startswith(("/2010-04-01/", "/v1/Services/")):
            return not_found().to_response()
        return problem(404, "Not Found", f"No sandbox route {request.path}")

    @app.errorhandler(405)
    def render_method_not_allowed(_error: Exception) -> Response:
        return problem(405, "Method Not Allowed", f"{request.method} {request.path}")

    app.wsgi_app = DropConnectionMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    return app
