"""Configuration read from the environment, with an embedded default for a first run."""
from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values, find_dotenv
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

SANDBOX_ACCOUNT_SID = "AC" + "5a" * 16
SANDBOX_AUTH_TOKEN = "sandbox-auth-token"
SANDBOX_DEFAULT_URL = "http://127.0.0.1:8765"
EMBEDDED_WEBHOOK_BASE_URL = "http://127.0.0.1:5000"

# Set in any environment that is not the embedded default; each one switches it off.
EXTERNAL_SERVICE_VARS = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "TWILIO_ACCOUNT_SID")
# A shorter METRICS_TOKEN could be guessed.
MIN_METRICS_TOKEN = 16
REQUIRED_OUTSIDE_EMBEDDED = (
    "SECRET_KEY",
    "DATABASE_URL",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "WEBHOOK_BASE_URL",
)


class ConfigurationError(RuntimeError):
    """Start-up cannot go on: a setting is missing or wrong."""


def _database_url(raw: str) -> str:
    # Heroku-style URLs say postgres://, which SQLAlchemy 2 no longer accepts.
    if raw.startswith("postgres://"):
        return "postgresql://" + raw[len("postgres://"):]
    return raw


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a number, not {raw!r}") from exc


def _decimal(env: Mapping[str, str], name: str, default: str) -> Decimal:
    raw = env.get(name) or default
    try:
        return Decimal(raw)
    except InvalidOperation as exc:
        raise ConfigurationError(f"{name} must be a decimal amount, not {raw!r}") from exc


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    return int(_float(env, name, default))


def _countries(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated ISO 3166 alpha-2 codes ("US,CA"); empty means none were set."""
    codes = tuple(code.strip().upper() for code in (env.get(name) or "").split(",")
                  if code.strip())
    bad = [code for code in codes if len(code) != 2 or not code.isalpha()]
    if bad:
        raise ConfigurationError(f"{name} takes two-letter country codes such as US,CA; "
                                 f"not {', '.join(bad)}")
    return codes


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigurationError(f"{name} must be true or false, not {env.get(name)!r}")
    return raw in ("true", "1", "yes")


def _messaging_service_sid(env: Mapping[str, str]) -> str | None:
    raw = (env.get("TWILIO_MESSAGING_SERVICE_SID") or "").strip()
    if not raw:
        return None
    if not re.fullmatch(r"MG[0-9a-fA-F]{32}", raw):
        raise ConfigurationError("TWILIO_MESSAGING_SERVICE_SID must be a Messaging Service SID "
                                 f"(MG and 32 hex digits), not {raw!r}")
    return raw


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    value = _float(env, name, default)
    if not value > 0:
        raise ConfigurationError(f"{name} must be more than 0, not {env.get(name)!r}")
    return value


def _time_zone(env: Mapping[str, str], name: str, default: str) -> str:
    """An IANA zone name (America/Chicago); anything else stops start-up."""
    value = (env.get(name) or default).strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigurationError(f"{name} must be an IANA time zone such as America/New_York, "
                                 f"not {value!r}") from exc
    return value


def _audio_store(env: Mapping[str, str], database_url: str) -> str:
    """Where rendered audio is kept: `database` (any web host serves it; the default on
    PostgreSQL) or `directory` (AUDIO_CACHE_DIR; the default on SQLite, which is one machine)."""
    default = "database" if database_url.startswith("postgresql") else "directory"
    value = (env.get("AUDIO_STORE") or default).strip().lower()
    if value not in ("database", "directory"):
        raise ConfigurationError(f"AUDIO_STORE must be database or directory, not "
                                 f"{env.get('AUDIO_STORE')!r}")
    return value


def _log_level(env: Mapping[str, str]) -> str:
    level = (env.get("LOG_LEVEL") or "INFO").strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigurationError(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, "
                                 f"not {env.get('LOG_LEVEL')!r}")
    return level


def is_embedded(env: Mapping[str, str]) -> bool:
    """The embedded default: none of the external services is named."""
    return not any(env.get(name) for name in EXTERNAL_SERVICE_VARS)


def log_format(env: Mapping[str, str]) -> str:
    """`json` (one JSON object a line, for a log shipper) or `text` (readable lines): JSON
    outside the embedded default, text on it (`make run`, a terminal)."""
    default = "text" if is_embedded(env) else "json"
    value = (env.get("LOG_FORMAT") or default).strip().lower()
    if value not in ("json", "text"):
        raise ConfigurationError(f"LOG_FORMAT must be json or text, not {env.get('LOG_FORMAT')!r}")
    return value


def _metrics_token(env: Mapping[str, str]) -> str | None:
    token = (env.get("METRICS_TOKEN") or "").strip()
    if token and len(token) < MIN_METRICS_TOKEN:
        raise ConfigurationError(f"METRICS_TOKEN must be at least {MIN_METRICS_TOKEN} characters "
                                 "(a random one: python3 -c 'import secrets; "
                                 "print(secrets.token_urlsafe(32))')")
    return token or None


def load_config(instance_path: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the app's settings from environment variables."""
    env = os.environ if env is None else env
    embedded = is_embedded(env)
    if not embedded:
        missing = [name for name in REQUIRED_OUTSIDE_EMBEDDED if not env.get(name)]
        if not (env.get("CELERY_BROKER_URL") or env.get("REDIS_URL")):
            missing.append("CELERY_BROKER_URL (or REDIS_URL)")
        if missing:
            raise ConfigurationError(
                "Ringly is not in the embedded default (one of "
                f"{', '.join(EXTERNAL_SERVICE_VARS)} is set), so these must be set too: "
                + ", ".join(missing)
            )

    instance = Path(instance_path)
    sqlite_url = f"sqlite:///{instance / 'ringly.db'}"
    broker_url = (
        env.get("CELERY_BROKER_URL")
        or env.get("REDIS_URL")
        or f"sqla+sqlite:///{instance / 'celery-broker.db'}"
    )
    twilio_sid = env.get("TWILIO_ACCOUNT_SID") or SANDBOX_ACCOUNT_SID
    twilio_base = env.get("TWILIO_API_BASE_URL") or (SANDBOX_DEFAULT_URL if embedded else None)
    webhook_base = (env.get("WEBHOOK_BASE_URL") or EMBEDDED_WEBHOOK_BASE_URL).rstrip("/")
    return {
        "EMBEDDED": embedded,
        "SANDBOX_MODE": twilio_sid == SANDBOX_ACCOUNT_SID or embedded,
        "SECRET_KEY": env.get("SECRET_KEY") or secrets.token_hex(32),
        "SQLALCHEMY_DATABASE_URI": _database_url(env.get("DATABASE_URL") or sqlite_url),
        # No pool_pre_ping: ringly.db.check_connections_on_checkout does its work more cheaply.
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        # Off behind a pooler that hands one server connection to many clients (PgBouncer in
        # transaction mode): the webhooks' statements are PREPAREd once per connection.
        "DATABASE_PREPARED_STATEMENTS": _bool(env, "DATABASE_PREPARED_STATEMENTS", True),
        "CELERY_BROKER_URL": broker_url,
        "CELERY": {"task_default_queue": env.get("CELERY_QUEUE") or "ringly"},
        "REDIS_URL": env.get("REDIS_URL"),
        "TWILIO_ACCOUNT_SID": twilio_sid,
        "TWILIO_AUTH_TOKEN": env.get("TWILIO_AUTH_TOKEN") or SANDBOX_AUTH_TOKEN,
        "TWILIO_API_BASE_URL": twilio_base,
        "TWILIO_CONNECT_TIMEOUT": _float(env, "TWILIO_CONNECT_TIMEOUT", 3.05),
        "TWILIO_READ_TIMEOUT": _float(env, "TWILIO_READ_TIMEOUT", 10.0),
        # Every number bought joins this Messaging Service (where its A2P 10DLC campaign is
        # registered) and texts go through it; unset, texts go from the bare number.
        "TWILIO_MESSAGING_SERVICE_SID": _messaging_service_sid(env),
        "WEBHOOK_BASE_URL": webhook_base,
        "WEBHOOK_FALLBACK_BASE_URL": (
            env.get("WEBHOOK_FALLBACK_BASE_URL") or webhook_base
        ).rstrip("/"),
        "ELEVENLABS_API_KEY": env.get("ELEVENLABS_API_KEY") or None,
        "ELEVENLABS_API_BASE_URL": env.get("ELEVENLABS_API_BASE_URL") or "https://api.elevenlabs.io",
        "ELEVENLABS_RACHEL_VOICE_ID": (
            env.get("ELEVENLABS_RACHEL_VOICE_ID") or "21m00Tcm4TlvDq8ikWAM"
        ),
        "ELEVENLABS_LINA_VOICE_ID": env.get("ELEVENLABS_LINA_VOICE_ID") or "VmejBeYhbrcTPwDniox7",
        "ELEVENLABS_MODEL_ID": env.get("ELEVENLABS_MODEL_ID") or "eleven_multilingual_v2",
        "AUDIO_STORE": _audio_store(env, _database_url(env.get("DATABASE_URL") or sqlite_url)),
        "AUDIO_CACHE_DIR": env.get("AUDIO_CACHE_DIR") or None,
        "ELEVENLABS_BREAKER_THRESHOLD": _int(env, "ELEVENLABS_BREAKER_THRESHOLD", 3),
        "ELEVENLABS_BREAKER_COOLDOWN": _float(env, "ELEVENLABS_BREAKER_COOLDOWN", 60.0),
        # The audio cache: its cap, and how long an unplayed file is kept (ringly/voice/rendering).
        "AUDIO_CACHE_MAX_MB": _positive(env, "AUDIO_CACHE_MAX_MB", 1024.0),
        "AUDIO_CACHE_RETENTION_DAYS": _positive(env, "AUDIO_CACHE_RETENTION_DAYS", 30.0),
        # At DEBUG, logs show callers' full numbers and the twilio library's request lines.
        "LOG_LEVEL": _log_level(env),
        "LOG_FORMAT": log_format(env),
        # GET /metrics: a bearer token; unset, /metrics is open on loopback on the embedded
        # default and answers 404 anywhere else (ringly/metrics.py).
        "METRICS_TOKEN": _metrics_token(env),
        # The Celery worker's own /metrics port, for a worker host with no web process.
        "WORKER_METRICS_PORT": _int(env, "WORKER_METRICS_PORT", 0) or None,
        # Every web and worker process of one host writes its counters here; /metrics sums them.
        "PROMETHEUS_MULTIPROC_DIR": (
            env.get("PROMETHEUS_MULTIPROC_DIR") or str(instance / "prometheus")
        ),
        "VALIDATE_TWILIO_SIGNATURES": True,
        # The zone of a client that chose none and whose number gives none (toll-free).
        "DEFAULT_TIMEZONE": _time_zone(env, "DEFAULT_TIMEZONE", "America/New_York"),
        "PURCHASES_PER_HOUR_LIMIT": _int(env, "PURCHASES_PER_HOUR_LIMIT", 100),
        "NUMBERS_TOTAL_LIMIT": _int(env, "NUMBERS_TOTAL_LIMIT", 1000),
        # Provisioning jobs: retries, candidate sharing, Redis key namespace.
        "REDIS_KEY_PREFIX": (
            env.get("REDIS_KEY_PREFIX") or f"ringly:{env.get('CELERY_QUEUE') or 'ringly'}"
        ),
        "PROVISIONING_MAX_ATTEMPTS": _int(env, "PROVISIONING_MAX_ATTEMPTS", 10),
        "PROVISIONING_BACKOFF_BASE": _float(env, "PROVISIONING_BACKOFF_BASE", 0.5),
        "PROVISIONING_BACKOFF_CAP": _float(env, "PROVISIONING_BACKOFF_CAP", 30.0),
        "PROVISIONING_STALE_AFTER": _float(env, "PROVISIONING_STALE_AFTER", 120.0),
        "PROVISIONING_SEARCH_PAGE_SIZE": _int(env, "PROVISIONING_SEARCH_PAGE_SIZE", 30),
        "IDEMPOTENCY_KEY_RETENTION_HOURS": _float(env, "IDEMPOTENCY_KEY_RETENTION_HOURS", 48.0),
        # Requests per API key in each limit group (ringly/admin/limits.py), Flask-Limiter's
        # notation: "30/minute", "10/second;500/hour".
        "RATE_LIMIT_PROVISION": env.get("RATE_LIMIT_PROVISION") or "30/minute",
        "RATE_LIMIT_SEARCH": env.get("RATE_LIMIT_SEARCH") or "120/minute",
        "RATE_LIMIT_READ": env.get("RATE_LIMIT_READ") or "600/minute",
        "RATE_LIMIT_WRITE": env.get("RATE_LIMIT_WRITE") or "60/minute",
        # Texts and calls: where to (empty: each client's own country) and how many.
        "ALLOWED_DESTINATION_COUNTRIES": _countries(env, "ALLOWED_DESTINATION_COUNTRIES"),
        "TEXTS_PER_CALLER_PER_DAY": _int(env, "TEXTS_PER_CALLER_PER_DAY", 10),
        "TEXTS_PER_DESTINATION_PER_DAY": _int(env, "TEXTS_PER_DESTINATION_PER_DAY", 10),
        "TEXTS_PER_CLIENT_PER_DAY": _int(env, "TEXTS_PER_CLIENT_PER_DAY", 500),
        "AUTO_REPLIES_PER_SENDER_PER_HOUR": _int(env, "AUTO_REPLIES_PER_SENDER_PER_HOUR", 5),
        "TEXT_OUTBOX_SWEEP_AFTER": _float(env, "TEXT_OUTBOX_SWEEP_AFTER", 60.0),
        # A larger body is refused (413 problem) before it is read: no request needs more.
        "MAX_CONTENT_LENGTH": _int(env, "MAX_REQUEST_BYTES", 1_048_576),
        # Each worker records a heartbeat this often; /readyz fails when none is this old.
        "WORKER_HEARTBEAT_INTERVAL": _positive(env, "WORKER_HEARTBEAT_INTERVAL", 15.0),
        "WORKER_HEARTBEAT_WINDOW": _positive(env, "WORKER_HEARTBEAT_WINDOW", 60.0),
        # Twilio's REST answers carry no number price; these are its US list prices per month.
        "NUMBER_MONTHLY_PRICES": {
            "local": _decimal(env, "NUMBER_PRICE_LOCAL", "1.15"),
            "toll_free": _decimal(env, "NUMBER_PRICE_TOLL_FREE", "2.15"),
            "mobile": _decimal(env, "NUMBER_PRICE_MOBILE", "1.15"),
        },
        "NUMBER_PRICE_UNIT": env.get("NUMBER_PRICE_UNIT") or "USD",
        # Events (ringly/events, docs/events.md). Endpoints on private addresses (SSRF) only on
        # the embedded default unless allowed; retries back off from BASE to CAP seconds and
        # stop HOURS after the event.
        "EVENTS_ALLOW_PRIVATE_URLS": _bool(env, "EVENTS_ALLOW_PRIVATE_URLS", embedded),
        "EVENTS_RETRY_BASE": _positive(env, "EVENTS_RETRY_BASE", 5.0),
        "EVENTS_RETRY_CAP": _positive(env, "EVENTS_RETRY_CAP", 3600.0),
        "EVENTS_RETRY_HOURS": _positive(env, "EVENTS_RETRY_HOURS", 24.0),
        "EVENTS_RETENTION_DAYS": _positive(env, "EVENTS_RETENTION_DAYS", 30.0),
        # The operator's console (/admin, ringly/console): how long a sign-in lasts, failed
        # sign-ins allowed per account and per address (the `limits` notation), and the prices
        # its cost estimate uses where Twilio reported none.
        "ADMIN_SESSION_HOURS": _positive(env, "ADMIN_SESSION_HOURS", 12.0),
        "ADMIN_SIGNIN_LIMIT_ACCOUNT": env.get("ADMIN_SIGNIN_LIMIT_ACCOUNT") or "5/15 minutes",
        "ADMIN_SIGNIN_LIMIT_ADDRESS": env.get("ADMIN_SIGNIN_LIMIT_ADDRESS") or "20/15 minutes",
        "ADMIN_COOKIE_SECURE": _bool(env, "ADMIN_COOKIE_SECURE", not embedded),
        "CALL_PRICE_PER_MINUTE": _decimal(env, "CALL_PRICE_PER_MINUTE", "0.0085"),
        "TEXT_PRICE": _decimal(env, "TEXT_PRICE", "0.0083"),
        "API_TITLE": "Ringly",
        "API_VERSION": "1.0",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": "/api/docs/assets/",
    }


def load_env_file(environ: dict[str, str] | None = None) -> Path | None:
    """Add the settings of the environment file to the process environment, once, the same way
    for every process (`flask`, gunicorn, Celery all build the app through `create_app`).

    The file is `RINGLY_ENV_FILE` when set, else the nearest `.env` from the working directory
    up (where Flask's own CLI looks too). A variable already in the environment wins over the
    file, so a deployment's real environment is never overridden by a stray file."""
    environ = os.environ if environ is None else environ
    named = environ.get("RINGLY_ENV_FILE")
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigurationError(f"RINGLY_ENV_FILE names {named}, which is not a file")
    else:
        found = find_dotenv(".env", usecwd=True)
        if not found:
            return None
        path = Path(found)
    for name, value in dotenv_values(path).items():
        if value is not None:
            environ.setdefault(name, value)
    return path.resolve()


def describe_sources(env_file: Path | None, config: Mapping[str, Any]) -> str:
    """One start-up line: which environment file and which database this process uses."""
    database = make_url(config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=True)
    source = f"environment file {env_file}" if env_file else "no environment file"
    return f"Ringly configuration: {source}; database {database}"


def describe_mode(config: Mapping[str, Any]) -> str:
    """One line saying what Ringly talks to, for the start-up log."""
    if config.get("SANDBOX_MODE"):
        return (
            "Ringly is in sandbox mode: Twilio requests go to the local sandbox at "
            f"{config.get('TWILIO_API_BASE_URL')}; no real number is bought."
        )
    return "Ringly talks to real Twilio with account " + str(config.get("TWILIO_ACCOUNT_SID"))
