"""Ringly: an AI phone receptionist service. `create_app` is the one place an app is built."""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from flask import Flask, Request
from flask.sessions import SessionInterface

PROJECT_ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("ringly")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: config, extensions, Celery, Twilio gateway, blueprints, errors."""
    import ringly.models  # noqa: F401  (the whole schema, for Alembic)
    from ringly import console, errors, health, logs, metrics, telephony, text
    from ringly.admin import auth, cli, limits
    from ringly.config import describe_mode, describe_sources, load_config, load_env_file
    from ringly.db import RowIdConverter, check_connections_on_checkout, db, migrate
    from ringly.docs_assets import init_app as init_docs_assets
    from ringly.messaging import views as messaging_views
    from ringly.provisioning import cli as provisioning_cli
    from ringly.provisioning import clients_cli, jobs_cli
    from ringly.queue import celery_init_app
    from ringly.voice import views as voice_views

    config = dict(config or {})
    environ = config.pop("ENVIRON", None)
    # Tests pass their whole environment; every real process reads the environment file here.
    env_file = load_env_file() if environ is None else None
    instance_path = config.pop("INSTANCE_PATH", None) or os.environ.get("RINGLY_INSTANCE_PATH")
    app = RinglyFlask(__name__, instance_path=instance_path)
    app.url_map.converters["int"] = RowIdConverter
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(load_config(app.instance_path, environ))
    app.config.from_mapping(config)
    app.config.setdefault("API_SPEC_OPTIONS", _api_spec_options())
    _configure_logging(app)

    db.init_app(app)
    check_connections_on_checkout(app)
    migrate.init_app(
        app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True, compare_type=True
    )
    metrics.init_app(app)
    logs.init_app(app)
    celery_init_app(app)
    telephony.init_app(app)

    api = errors.RinglyApi(app)
    for blueprint in _api_blueprints():
        api.register_blueprint(blueprint)
    # auth before limits: requests are counted per API key, once the key is known.
    for module in (health, auth, limits, text, errors, cli, voice_views, messaging_views,
                   provisioning_cli, clients_cli, jobs_cli, console):
        module.init_app(app)
    init_docs_assets(app)
    log.info(describe_mode(app.config))
    log.info(describe_sources(env_file, app.config))
    return app


class _NoCookieSessions(SessionInterface):
    """Ringly keeps no cookie sessions (API keys and Twilio signatures say who is asking); Flask
    still opened one on every request, building a signing serializer each time."""

    def open_session(self, app: Flask, request: Any) -> Any:
        return self.make_null_session(app)

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        return None


class _Request(Request):
    def _load_form_data(self) -> None:
        # Twilio posts every webhook as a url-encoded form: read it as werkzeug does (the same
        # items, dict type and limit on the body), without building a form parser around it.
        content_type = self.environ.get("CONTENT_TYPE", "")
        if "form" in self.__dict__ or content_type.partition(";")[0].strip().lower() != \
                "application/x-www-form-urlencoded":
            super()._load_form_data()
            return
        items = form_items(self.get_data(cache=True).decode())
        self.__dict__["form"] = self.parameter_storage_class(items)
        self.__dict__["files"] = self.parameter_storage_class()


def form_items(body: str) -> list[tuple[str, str]]:
    """`urllib.parse.parse_qsl(body, keep_blank_values=True, errors="werkzeug.url_quote")`, as
    werkzeug parses a form, but decoding only the pairs that have something to decode."""
    items = []
    for pair in body.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if "+" in pair or "%" in pair:
            name = unquote(name.replace("+", " "), errors="werkzeug.url_quote")
            value = unquote(value.replace("+", " "), errors="werkzeug.url_quote")
        items.append((name, value))
    return items


class RinglyFlask(Flask):
    """Flask, minus per-request work Ringly never needs (webhook turns are the hot path)."""

    request_class = _Request
    session_interface = _NoCookieSessions()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync_callables: dict[Any, Any] = {}

    def ensure_sync(self, func: Any) -> Any:
        # Flask asks inspect whether each hook and view is a coroutine function, on every
        # request; the answer never changes.
        try:
            return self._sync_callables[func]
        except KeyError:
            return self._sync_callables.setdefault(func, super().ensure_sync(func))
        except TypeError:  # an unhashable callable: ask every time, as Flask does
            return super().ensure_sync(func)


def _api_blueprints() -> list:
    from ringly.admin.views import blp as admin_blp
    from ringly.booking.views import blp as appointments_blp
    from ringly.clients.views import blp as clients_blp
    from ringly.events.views import blp as events_blp
    from ringly.messaging.api import blp as messages_blp
    from ringly.provisioning.number_views import blp as numbers_blp
    from ringly.provisioning.views import blp as provisioning_blp
    from ringly.voice.api import blp as calls_blp

    return [admin_blp, provisioning_blp, numbers_blp, clients_blp, appointments_blp, calls_blp,
            messages_blp, events_blp]


def _api_spec_options() -> dict[str, Any]:
    return {
        "info": {"description": "Ringly's API: provisioning numbers and reading what the "
                 "receptionist recorded. Every route needs `Authorization: Bearer <key>` "
                 "with the scope its operation names in `x-required-scope` (`read`, "
                 "`provision` or `admin`; 403 without it), and is rate-limited per key in "
                 "the group named in `x-rate-limit-group` (429 with `Retry-After`)."},
        "security": [{"bearerAuth": []}],
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }


def _configure_logging(app: Flask) -> None:
    from ringly import logs

    level, log_format = app.config["LOG_LEVEL"], app.config["LOG_FORMAT"]
    if not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logs.formatter(log_format))
        logging.basicConfig(level=level, handlers=[handler])
    logs.use_format(log_format)  # Celery's worker and beat replace the handler above
    # The twilio library logs every request with its query (callers' numbers) at INFO.
    logging.getLogger("twilio").setLevel(logging.NOTSET if level == "DEBUG" else logging.WARNING)
    logs.configure(level, secrets=(app.config.get(name) for name in (
        "TWILIO_AUTH_TOKEN", "ELEVENLABS_API_KEY", "SECRET_KEY", "METRICS_TOKEN")))
