"""Failed console sign-ins counted per account and per address (moving windows, `limits`), in
Ringly's Redis when there is one, so every web process and host counts together."""
from __future__ import annotations

import hashlib
import logging
import math
import time

from flask import Flask
from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from ringly.admin.limits import storage_uri
from ringly.config import ConfigurationError

log = logging.getLogger(__name__)

SETTINGS = ("ADMIN_SIGNIN_LIMIT_ACCOUNT", "ADMIN_SIGNIN_LIMIT_ADDRESS")


class SignInLimits:
    """`blocked` before a password is checked (a blocked account cannot even try the right one),
    `failed` after a wrong one. A correct sign-in is never counted."""

    def __init__(self, storage: Storage, prefix: str, account: list[RateLimitItem],
                 address: list[RateLimitItem]) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
        self._memory = MovingWindowRateLimiter(storage_from_string("memory://"))
        self._prefix = prefix
        self._limits = {"account": account, "address": address}

    @classmethod
    def for_app(cls, app: Flask) -> SignInLimits:
        limits = app.extensions.get("ringly_signin_limits")
        if limits is None:
            parsed = {}
            for setting in SETTINGS:
                try:
                    parsed[setting] = parse_many(app.config[setting])
                except ValueError as error:
                    raise ConfigurationError(
                        f"{setting} must be a limit such as '5/15 minutes', not "
                        f"{app.config[setting]!r}") from error
            uri = storage_uri(app.config)
            storage = storage_from_string(uri, socket_timeout=1) if uri != "memory://" \
                else storage_from_string(uri)
            limits = app.extensions["ringly_signin_limits"] = cls(
                storage, f"{app.config.get('REDIS_KEY_PREFIX', 'ringly')}:signin",
                parsed[SETTINGS[0]], parsed[SETTINGS[1]])
        return limits

    def _keys(self, email: str, address: str) -> list[tuple[RateLimitItem, str]]:
        def key(kind: str, value: str) -> str:
            # Hashed: the store never holds an email address.
            return f"{self._prefix}:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:24]}"

        return [(item, key(kind, value)) for kind, value in
                (("account", email), ("address", address)) for item in self._limits[kind]]

    def _run(self, method: str, *args: object) -> object:
        try:
            return getattr(self._limiter, method)(*args)
        except Exception:  # Redis is down: count in this process meanwhile, never fail open
            log.warning("sign-in limits: the shared store failed; counting in memory",
                        exc_info=True)
            return getattr(self._memory, method)(*args)

    def blocked(self, email: str, address: str) -> int:
        """Seconds until a sign-in may be tried again, or 0."""
        waits = []
        for item, key in self._keys(email, address):
            if not self._run("test", item, key):
                reset_at = self._run("get_window_stats", item, key).reset_time
                waits.append(max(1, math.ceil(reset_at - time.time())))
        return max(waits, default=0)

    def failed(self, email: str, address: str) -> None:
        for item, key in self._keys(email, address):
            self._run("hit", item, key)
