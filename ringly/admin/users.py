"""The console's admin users: created from the CLI, signed in with a password, one session row
per signed-in browser; failed sign-ins limited per account and per address."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, g
from werkzeug.security import check_password_hash, generate_password_hash

from ringly.admin.models import AdminSession, AdminUser
from ringly.admin.services import record_event
from ringly.admin.signin_limits import SignInLimits
from ringly.db import db, utcnow
from ringly.errors import Conflict, InvalidInput, LimitExceeded, NotFound, Unauthorized

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD, MAX_PASSWORD = 12, 256
# How often a session's last_seen_at is written: a page view need not be a write each time.
SEEN_EVERY = timedelta(minutes=1)
# Checked when the email is unknown, so an unknown account takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-password-" + secrets.token_hex(8))


@dataclass(frozen=True)
class SignedIn:
    admin: AdminUser
    token: str  # the cookie's value; only its hash is stored
    expires_at: datetime


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if len(email) > 254 or not EMAIL.match(email):
        raise InvalidInput("an email address such as ops@example.com",
                           errors={"email": ["not an email address"]})
    return email


def check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password or "") <= MAX_PASSWORD:
        raise InvalidInput(f"a password of {MIN_PASSWORD} to {MAX_PASSWORD} characters",
                           errors={"password": [f"{MIN_PASSWORD} to {MAX_PASSWORD} characters"]})


def create_admin(email: str, password: str) -> AdminUser:
    email = normalise_email(email)
    check_password(password)
    if db.session.scalar(sa.select(AdminUser.id).where(AdminUser.email == email)) is not None:
        raise Conflict(f"an admin {email} already exists")
    admin = AdminUser(email=email, password_hash=generate_password_hash(password))
    db.session.add(admin)
    record_event("admin.created", f"admin {email} created", subject=admin)
    db.session.commit()
    return admin


def ensure_admin(email: str, password: str) -> AdminUser:
    """The admin `email` with this password, created or re-enabled (`make run`'s login)."""
    email = normalise_email(email)
    admin = db.session.scalar(sa.select(AdminUser).where(AdminUser.email == email))
    if admin is None:
        return create_admin(email, password)
    if admin.disabled_at is not None or not check_password_hash(admin.password_hash, password):
        admin.password_hash, admin.disabled_at = generate_password_hash(password), None
        db.session.commit()
    return admin


def list_admins() -> list[AdminUser]:
    return list(db.session.scalars(sa.select(AdminUser).order_by(AdminUser.email)))


def disable_admin(email: str) -> AdminUser:
    """The admin can no longer sign in, and every browser signed in as them is signed out."""
    email = (email or "").strip().lower()
    admin = db.session.scalar(sa.select(AdminUser).where(AdminUser.email == email))
    if admin is None:
        raise NotFound(f"no admin {email}")
    if admin.disabled_at is None:
        admin.disabled_at = utcnow()
        db.session.execute(sa.delete(AdminSession).where(AdminSession.admin_user_id == admin.id))
        record_event("admin.disabled", f"admin {email} disabled", subject=admin)
    db.session.commit()
    return admin


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(email: str, password: str, address: str) -> SignedIn:
    """A new session for the admin, or Unauthorized (one message for an unknown account, a
    wrong password and a disabled admin) or LimitExceeded once too many sign-ins failed."""
    limits = SignInLimits.for_app(current_app)
    email = (email or "").strip().lower()[:254]
    retry_after = limits.blocked(email, address)
    if retry_after:
        raise LimitExceeded("too many failed sign-ins; try again later", retry_after=retry_after)
    admin = db.session.scalar(sa.select(AdminUser).where(AdminUser.email == email)) \
        if email else None
    valid = check_password_hash(admin.password_hash if admin else _DUMMY_HASH, password or "")
    if admin is None or not valid or admin.disabled_at is not None:
        limits.failed(email, address)
        record_event("admin.sign_in_failed", f"failed sign-in as {email or '(no email)'}",
                     subject_type="admin_users", subject_id=admin.id if admin else None,
                     data={"address": address})
        db.session.commit()
        raise Unauthorized("the email or the password is wrong")
    now = utcnow()
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(hours=current_app.config["ADMIN_SESSION_HOURS"])
    db.session.add(AdminSession(token_hash=_token_hash(token), admin_user_id=admin.id,
                                created_at=now, last_seen_at=now, expires_at=expires_at))
    admin.last_sign_in_at = now
    g.admin_user = admin
    record_event("admin.signed_in", f"admin {email} signed in", subject=admin,
                 data={"address": address})
    db.session.commit()
    return SignedIn(admin, token, expires_at)


def session_admin(token: str | None) -> AdminUser | None:
    """The admin a session cookie belongs to, while the session lasts and the admin is enabled."""
    if not token or len(token) > 128:
        return None
    now = utcnow()
    row = db.session.execute(
        sa.select(AdminSession, AdminUser).join(AdminUser)
        .where(AdminSession.token_hash == _token_hash(token))).first()
    if row is None:
        return None
    session, admin = row
    if session.expires_at <= now or admin.disabled_at is not None:
        return None
    if now - session.last_seen_at >= SEEN_EVERY:
        session.last_seen_at = now
        db.session.commit()
    return admin


def sign_out(token: str | None) -> None:
    if not token:
        return
    admin = session_admin(token)
    db.session.execute(sa.delete(AdminSession).where(
        AdminSession.token_hash == _token_hash(token)))
    if admin is not None:
        record_event("admin.signed_out", f"admin {admin.email} signed out", subject=admin)
    db.session.commit()


def expire_sessions() -> int:
    """Delete sessions that have ended (an hourly beat task)."""
    deleted = db.session.execute(sa.delete(AdminSession).where(
        AdminSession.expires_at <= utcnow())).rowcount
    db.session.commit()
    return deleted or 0
