"""A pool of searched candidate numbers shared by concurrent jobs, so one search serves many."""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import asdict
from typing import Any

import redis
from flask import current_app

from ringly.telephony import AvailableNumber, get_gateway

log = logging.getLogger(__name__)

# Candidates go stale as others buy them; a short life keeps 21422s rare.
POOL_TTL_S = 120
# A search that found nothing is remembered briefly so other jobs move on at once.
EMPTY_TTL_S = 30
REFILL_LOCK_TTL_S = 15
REFILL_WAIT_S = 10.0


class _MemoryStore:
    """In-process stand-in for Redis when the broker is not Redis (embedded default)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lists: dict[str, list[str]] = {}
        self.flags: dict[str, float] = {}


_memory = _MemoryStore()
_clients: dict[str, redis.Redis] = {}


def redis_url() -> str | None:
    url = current_app.config.get("REDIS_URL") or current_app.config.get("CELERY_BROKER_URL")
    return url if url and url.startswith(("redis://", "rediss://")) else None


def redis_client() -> redis.Redis | None:
    """One Redis client per process and URL, or None when Ringly runs without Redis."""
    url = redis_url()
    if url is None:
        return None
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
    return _clients[url]


def pool_key(country: str, number_type: str, area_code: str | None) -> str:
    prefix = current_app.config["REDIS_KEY_PREFIX"]
    return f"{prefix}:candidates:{country}:{number_type}:{area_code or 'any'}"


def _encode(number: AvailableNumber) -> str:
    return json.dumps(asdict(number))


def _decode(raw: bytes | str) -> dict[str, Any]:
    return json.loads(raw)


def _search(country: str, number_type: str, area_code: str | None) -> list[AvailableNumber]:
    return get_gateway().search_available(
        country=country, number_type=number_type, area_code=area_code, voice=True,
        limit=int(current_app.config.get("PROVISIONING_SEARCH_PAGE_SIZE", 30)),
    )


def take_candidate(country: str, number_type: str, area_code: str | None) -> dict[str, Any] | None:
    """Pop one candidate for sale, searching (one request) only when the pool is empty.

    Returns None when Twilio has nothing for these criteria. Raises TelephonyError from
    the search.
    """
    client = redis_client()
    key = pool_key(country, number_type, area_code)
    if client is None:
        return _take_from_memory(key, country, number_type, area_code)
    try:
        return _take_from_redis(client, key, country, number_type, area_code)
    except redis.RedisError as error:
        # Sharing is an optimisation; without Redis each job searches for itself.
        log.warning("candidate pool unavailable (%s); searching directly", error)
        found = _search(country, number_type, area_code)
        return asdict(found[0]) if found else None


def _take_from_redis(client: redis.Redis, key: str, country: str, number_type: str,
                     area_code: str | None) -> dict[str, Any] | None:
    deadline = time.monotonic() + REFILL_WAIT_S
    while True:
        raw = client.lpop(key)
        if raw is not None:
            return _decode(raw)
        if client.exists(f"{key}:empty"):
            return None
        # One job searches; the others wait for its page instead of searching too.
        if client.set(f"{key}:refill", "1", nx=True, ex=REFILL_LOCK_TTL_S):
            try:
                found = _search(country, number_type, area_code)
                if not found:
                    client.set(f"{key}:empty", "1", ex=EMPTY_TTL_S)
                    return None
                mine, rest = found[0], found[1:]
                if rest:
                    pipe = client.pipeline()
                    pipe.rpush(key, *(_encode(n) for n in rest))
                    pipe.expire(key, POOL_TTL_S)
                    pipe.execute()
                return asdict(mine)
            finally:
                client.delete(f"{key}:refill")
        if time.monotonic() > deadline:
            found = _search(country, number_type, area_code)
            return asdict(found[0]) if found else None
        # Wake the moment the searching job pushes its page (or re-check after a second).
        popped = client.blpop([key], timeout=1)
        if popped is not None:
            return _decode(popped[1])


def _take_from_memory(key: str, country: str, number_type: str,
                      area_code: str | None) -> dict[str, Any] | None:
    with _memory.lock:
        pool = _memory.lists.get(key)
        if pool:
            return _decode(pool.pop(0))
        if _memory.flags.get(key, 0) > time.monotonic():
            return None
        found = _search(country, number_type, area_code)
        if not found:
            _memory.flags[key] = time.monotonic() + EMPTY_TTL_S
            return None
        _memory.lists[key] = [_encode(n) for n in found[1:]]
        return asdict(found[0])


def forget_pools() -> None:
    """Drop every shared candidate (tests and the sandbox reset between runs)."""
    with _memory.lock:
        _memory.lists.clear()
        _memory.flags.clear()
    client = redis_client()
    if client is None:
        return
    prefix = current_app.config["REDIS_KEY_PREFIX"]
    keys = list(client.scan_iter(match=f"{prefix}:candidates:*", count=500))
    if keys:
        client.delete(*keys)
