"""API keys (created, checked, revoked) and audit events."""
from __future__ import annotations

import hashlib
import secrets
from typing import Any

import sqlalchemy as sa

from ringly.admin.models import ApiKey, AuditEvent
from ringly.db import db, utcnow
from ringly.errors import Conflict, NotFound, Unauthorized

KEY_PREFIX = "rk_"


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def create_api_key(name: str) -> tuple[ApiKey, str]:
    """Create a key and return it with the raw secret, which is shown once and never stored."""
    if db.session.scalar(sa.select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise Conflict(f"an API key named {name!r} already exists")
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey(name=name, prefix=raw_key[:10], key_hash=hash_key(raw_key))
    db.session.add(api_key)
    record_event("api_key.created", f"API key {name!r} created", subject=api_key)
    db.session.commit()
    return api_key, raw_key


def ensure_api_key(name: str, raw_key: str) -> ApiKey:
    """Register a known raw key under a name (the development key), idempotently."""
    key_hash = hash_key(raw_key)
    api_key = db.session.scalar(sa.select(ApiKey).where(ApiKey.key_hash == key_hash))
    if api_key is None:
        db.session.execute(sa.delete(ApiKey).where(ApiKey.name == name))
        api_key = ApiKey(name=name, prefix=raw_key[:10], key_hash=key_hash)
        db.session.add(api_key)
    api_key.revoked_at = None
    db.session.commit()
    return api_key


def revoke_api_key(name: str) -> ApiKey:
    api_key = db.session.scalar(sa.select(ApiKey).where(ApiKey.name == name))
    if api_key is None:
        raise NotFound(f"no API key named {name!r}")
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        record_event("api_key.revoked", f"API key {name!r} revoked", subject=api_key)
        db.session.commit()
    return api_key


def list_api_keys() -> list[ApiKey]:
    return list(db.session.scalars(sa.select(ApiKey).order_by(ApiKey.id)))


def authenticate(authorization: str | None) -> ApiKey:
    """Check an Authorization header and record the key's use."""
    scheme, _, raw_key = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not raw_key.strip():
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
    api_key = db.session.scalar(
        sa.select(ApiKey).where(ApiKey.key_hash == hash_key(raw_key.strip()))
    )
    if api_key is None or api_key.revoked_at is not None:
        raise Unauthorized("the API key is unknown or revoked")
    api_key.last_used_at = utcnow()
    db.session.commit()
    return api_key


def record_event(
    kind: str,
    message: str,
    *,
    subject: Any = None,
    subject_type: str | None = None,
    subject_id: Any = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction; the caller commits."""
    if subject is not None:
        subject_type = subject_type or getattr(subject, "__tablename__", type(subject).__name__)
        subject_id = subject_id if subject_id is not None else getattr(subject, "id", None)
    event = AuditEvent(
        kind=kind,
        message=message,
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        data=data or {},
    )
    db.session.add(event)
    return event
