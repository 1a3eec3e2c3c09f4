"""Rate limits per API key (Flask-Limiter): one counter per key and limit group, 429 problems.

Each /api operation belongs to a group (`provision`, `search`, `read`, `write`; declared with
its scope in ringly/admin/scopes.py) whose limit is the `RATE_LIMIT_<GROUP>` setting. Requests
without a key (webhooks, health, the OpenAPI document) are never counted: Twilio has no key,
and a call's turns are bounded by the flow itself.
"""
from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.errors import RateLimitExceeded
from limits import parse_many

from ringly.admin.auth import is_api_path
from ringly.admin.scopes import RATE_LIMIT_GROUPS
from ringly.config import ConfigurationError
from ringly.errors import problem_response

log = logging.getLogger(__name__)

GROUP_NAMES = {"provision": "provisioning", "search": "number searches", "read": "reads",
               "write": "changes"}


def _api_key_identity() -> str:
    # A prefix of the key's hash, not its row id: ids restart when a database is recreated,
    # while counters in a shared Redis outlive it.
    return g.api_key.key_hash[:24]


def _group(endpoint: str = "") -> str:
    access = g.get("access")
    return access.rate_limit if access is not None else "read"


def _limit_for_request() -> str:
    return current_app.config[f"RATE_LIMIT_{_group().upper()}"]


def _not_counted() -> bool:
    return g.get("api_key") is None or g.get("access") is None


def storage_uri(config: dict) -> str:
    """Redis when Ringly has one (REDIS_URL, else a redis:// broker); else in memory, per
    process, as on the embedded default."""
    for url in (config.get("REDIS_URL"), config.get("CELERY_BROKER_URL")):
        if url and url.startswith(("redis://", "rediss://", "unix://")):
            return url
    return "memory://"


def _problem_for(error: RateLimitExceeded) -> Response:
    group = _group()
    detail = (f"This API key made more than {error.limit.limit} requests in the "
              f"'{group}' group ({GROUP_NAMES.get(group, group)}); wait for Retry-After.")
    return problem_response(429, "Too Many Requests", detail, "rate-limited", rate_limit=group)


def _add_headers(response: Response) -> Response:
    limiter: Limiter | None = current_app.extensions.get("ringly_limiter")
    if limiter is None or _not_counted():
        return response
    try:
        current = limiter.current_limit
        if current is None:
            return response
        # Seconds until the window resets (RequestLimit.reset_at adds a second of its own).
        reset_in = max(1, math.ceil(current.window[0] - time.time()))
        response.headers["RateLimit-Limit"] = str(current.limit.amount)
        response.headers["RateLimit-Remaining"] = str(max(0, current.remaining))
        response.headers["RateLimit-Reset"] = str(reset_in)
        if response.status_code == 429:
            response.headers["Retry-After"] = str(reset_in)
    except Exception:  # the limit store went away mid-request: the answer still goes out
        log.warning("could not read the rate limit window for the headers", exc_info=True)
    return response


def _api_only(hook: Callable[..., Any]) -> Callable[..., Any]:
    """`hook` for /api requests; any other request (a webhook turn) passes straight through."""
    @functools.wraps(hook)
    def for_api(*args: Any) -> Any:
        if is_api_path(request.path):
            return hook(*args)
        return args[0] if args else None  # an after-request hook hands the response on

    return for_api


def _skip_outside_api(app: Flask, limiter: Limiter) -> None:
    """Only /api requests carry a key, so only they are ever counted; Flask-Limiter's own
    request hooks still did their bookkeeping on every webhook (~50 µs of a turn's CPU)."""
    def is_limiters(hook: Any) -> bool:
        bound = getattr(hook, "__self__", None)
        return bound is limiter or limiter in getattr(hook, "args", ())

    for hooks in (app.before_request_funcs, app.after_request_funcs,
                  app.teardown_request_funcs):
        funcs = hooks.get(None, [])
        funcs[:] = [_api_only(hook) if is_limiters(hook) else hook for hook in funcs]


def init_app(app: Flask) -> None:
    """Register after ringly.admin.auth: the limit is counted per key once the key is known."""
    for group in RATE_LIMIT_GROUPS:
        setting = f"RATE_LIMIT_{group.upper()}"
        try:
            if not parse_many(app.config[setting]):
                raise ValueError("no limit")
        except (KeyError, ValueError) as error:
            raise ConfigurationError(
                f"{setting} must be a rate limit such as '30/minute' or '10/second;500/hour', "
                f"not {app.config.get(setting)!r}") from error
    limiter = Limiter(
        key_func=_api_key_identity,
        application_limits=[ApplicationLimit(_limit_for_request, scope=_group)],
        storage_uri=storage_uri(app.config),
        key_prefix=f"{app.config.get('REDIS_KEY_PREFIX', 'ringly')}:limits",
        strategy="fixed-window",
        # Our own RateLimit-* headers (below): the draft standard's Reset is seconds from now.
        headers_enabled=False,
        # A Redis outage must not take the API down: count in memory until Redis is back.
        in_memory_fallback_enabled=True,
        swallow_errors=True,
    )
    limiter.request_filter(_not_counted)
    limiter.init_app(app)
    _skip_outside_api(app, limiter)
    app.extensions["ringly_limiter"] = limiter
    app.after_request(_api_only(_add_headers))
    app.register_error_handler(RateLimitExceeded, _problem_for)
