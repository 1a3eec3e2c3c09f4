"""API keys (created, scoped, checked, revoked) and audit events (recorded and listed)."""
from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import click
import sqlalchemy as sa
from celery import current_task
from flask import g, has_app_context, has_request_context, request
from flask.cli import ScriptInfo

from ringly.admin.models import AdminUser, ApiKey, AuditEvent
from ringly.admin.scopes import DEFAULT_SCOPES, normalise_scopes
from ringly.db import db, newest_first, utcnow
from ringly.errors import Conflict, NotFound, Unauthorized

KEY_PREFIX = "rk_"


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def create_api_key(name: str, scopes: Iterable[str] = DEFAULT_SCOPES) -> tuple[ApiKey, str]:
    """Create a key and return it with the raw secret, which is shown once and never stored."""
    stored_scopes = normalise_scopes(scopes)
    if db.session.scalar(sa.select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise Conflict(f"an API key named {name!r} already exists")
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey(name=name, prefix=raw_key[:10], key_hash=hash_key(raw_key),
                     scopes=stored_scopes)
    db.session.add(api_key)
    record_event("api_key.created", f"API key {name!r} created with scopes {stored_scopes}",
                 subject=api_key, data={"scopes": stored_scopes.split()})
    db.session.commit()
    return api_key, raw_key


def ensure_api_key(name: str, raw_key: str, scopes: Iterable[str] = DEFAULT_SCOPES) -> ApiKey:
    """Register a known raw key under a name (the development key), idempotently."""
    stored_scopes = normalise_scopes(scopes)
    key_hash = hash_key(raw_key)
    api_key = db.session.scalar(sa.select(ApiKey).where(ApiKey.key_hash == key_hash))
    if api_key is None:
        db.session.execute(sa.delete(ApiKey).where(ApiKey.name == name))
        api_key = ApiKey(name=name, prefix=raw_key[:10], key_hash=key_hash)
        db.session.add(api_key)
        record_event("api_key.created", f"API key {name!r} registered with scopes "
                     f"{stored_scopes}", subject=api_key, data={"scopes": stored_scopes.split()})
    api_key.scopes = stored_scopes
    api_key.revoked_at = None
    db.session.commit()
    return api_key


def set_api_key_scopes(name: str, scopes: Iterable[str]) -> ApiKey:
    """Replace a key's scopes (granting admin is an audited act)."""
    stored_scopes = normalise_scopes(scopes)
    api_key = _key_named(name)
    if api_key.scopes != stored_scopes:
        record_event("api_key.scopes_changed", f"API key {name!r} scopes {api_key.scopes} -> "
                     f"{stored_scopes}", subject=api_key,
                     data={"before": api_key.scopes.split(), "after": stored_scopes.split()})
        api_key.scopes = stored_scopes
        db.session.commit()
    return api_key


def revoke_api_key(name: str) -> ApiKey:
    api_key = _key_named(name)
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        record_event("api_key.revoked", f"API key {name!r} revoked", subject=api_key)
        db.session.commit()
    return api_key


def _key_named(name: str) -> ApiKey:
    api_key = db.session.scalar(sa.select(ApiKey).where(ApiKey.name == name))
    if api_key is None:
        raise NotFound(f"no API key named {name!r}")
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
    client_id: int | None = None,
    api_key_id: int | None = None,
    admin_user_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction; the caller commits.

    The client is taken from the subject (a client, or a row with `client_id`) unless given;
    the actor is the request's API key or admin, the CLI command or the task running. A task
    acting for a key or a console admin (a provisioning job) passes `api_key_id` or
    `admin_user_id` so the event names who caused it."""
    if subject is not None:
        if getattr(subject, "id", 0) is None and subject in db.session:
            db.session.flush()  # a new row: its id is the subject's id
        subject_type = subject_type or getattr(subject, "__tablename__", type(subject).__name__)
        subject_id = subject_id if subject_id is not None else getattr(subject, "id", None)
        if client_id is None:
            client_id = (subject_id if subject_type == "clients"
                         else getattr(subject, "client_id", None))
    if api_key_id is None:
        api_key_id = getattr(subject, "api_key_id", None)  # a job remembers who asked for it
    if admin_user_id is None and subject_type != "admin_users":
        admin_user_id = getattr(subject, "admin_user_id", None)  # asked for in the console
    actor, acting_key_id, acting_admin_id = _actor()
    if api_key_id is not None and acting_key_id is None:
        acting_key = db.session.get(ApiKey, api_key_id)
        actor = f"{actor} for api key {acting_key.name if acting_key else api_key_id}"
        acting_key_id = api_key_id
    elif admin_user_id is not None and acting_admin_id is None:
        # A task doing what an admin asked for in the console (a job's steps) names them.
        admin = db.session.get(AdminUser, admin_user_id)
        actor = f"{actor} for admin {admin.email if admin else admin_user_id}"
        acting_admin_id = admin_user_id
    event = AuditEvent(
        kind=kind,
        message=message,
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        client_id=client_id if isinstance(client_id, int) else None,
        actor=actor[:128],
        api_key_id=acting_key_id,
        admin_user_id=acting_admin_id,
        # JSON as stored: a time, a Decimal or a zone in `data` is kept as its text.
        data=json.loads(json.dumps(data or {}, default=str)),
    )
    db.session.add(event)
    return event


def _actor() -> tuple[str, int | None, int | None]:
    """Who is acting now, with the API key's or the admin's id: an API key in a request, an
    admin in the console, a `flask` CLI command, a Celery task."""
    api_key = g.get("api_key") if has_app_context() else None
    if api_key is not None:
        return f"api key {api_key.name}", api_key.id, None
    admin = g.get("admin_user") if has_app_context() else None
    if admin is not None:
        return f"admin {admin.email}", None, admin.id
    if has_request_context():
        source = "api request" if request.path.startswith("/api") else "webhook"
        return f"{source} {request.path}", None, None
    context = click.get_current_context(silent=True)
    if context is not None and context.find_object(ScriptInfo) is not None:
        # The path without the program's name ("flask keys create" -> "keys create").
        return f"cli {' '.join(context.command_path.split()[1:])}", None, None
    if current_task and getattr(current_task.request, "id", None):  # a proxy: falsy outside
        return f"task {current_task.name}", None, None
    return "system", None, None


def list_audit_events(
    limit: int,
    before_id: int | None,
    *,
    client_id: int | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[AuditEvent]:
    """Audit events newest first, filtered; `limit` rows older than `before_id`."""
    query = sa.select(AuditEvent)
    if client_id is not None:
        query = query.where(AuditEvent.client_id == client_id)
    if kind is not None:
        query = query.where(AuditEvent.kind == kind)
    if since is not None:
        query = query.where(AuditEvent.created_at >= since)
    if until is not None:
        query = query.where(AuditEvent.created_at < until)
    return list(db.session.scalars(newest_first(query, AuditEvent.id, limit, before_id)))
