"""Who is signed in to the console, the CSRF token every form carries, and the headers of every
console answer.

The session cookie holds a random token whose hash is a row of `admin_sessions` (signing out
or disabling the admin refuses it at once). A form's CSRF token is an HMAC of that token with
SECRET_KEY; before sign-in, of a random cookie of its own (double submit), so the sign-in form
is protected too. Cookies are HttpOnly, SameSite=Lax, limited to /admin, and Secure outside the
embedded default (ADMIN_COOKIE_SECURE).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from urllib.parse import urlsplit

from flask import Response, current_app, g, redirect, render_template, request, url_for

from ringly.admin import users

SESSION_COOKIE = "ringly_admin"
PRE_SESSION_COOKIE = "ringly_admin_csrf"
COOKIE_PATH = "/admin"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# Reachable without signing in.
PUBLIC_ENDPOINTS = frozenset({"console.sign_in", "console.static"})
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


def _hmac(purpose: str, value: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def csrf_token() -> str:
    """The token this page's forms carry (templates call it)."""
    if g.get("console_token"):
        return _hmac("console-csrf", g.console_token)
    if not g.get("pre_session"):
        g.pre_session = request.cookies.get(PRE_SESSION_COOKIE) or secrets.token_urlsafe(24)
        g.set_pre_session = g.pre_session != request.cookies.get(PRE_SESSION_COOKIE)
    return _hmac("console-pre-csrf", g.pre_session)


def _csrf_valid() -> bool:
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if g.get("console_token"):
        expected = _hmac("console-csrf", g.console_token)
    else:
        pre = request.cookies.get(PRE_SESSION_COOKIE)
        if not pre:
            return False
        expected = _hmac("console-pre-csrf", pre)
    return bool(sent) and hmac.compare_digest(sent, expected)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a console path only (never another site)."""
    parts = urlsplit(target or "")
    if target and not parts.scheme and not parts.netloc and parts.path.startswith("/admin") \
            and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("console.dashboard")


def load_admin() -> Response | None:
    """The console's before_request: who is signed in; sign-in required; CSRF on every POST."""
    if request.endpoint == "console.static":
        return None  # the stylesheet and the script: no session to look up
    token = request.cookies.get(SESSION_COOKIE)
    admin = users.session_admin(token)
    g.admin_user, g.console_token = admin, token if admin is not None else None
    if admin is None and request.endpoint not in PUBLIC_ENDPOINTS:
        if request.method == "GET":
            return redirect(url_for("console.sign_in", next=request.full_path.rstrip("?")))
        return refusal(401, "Sign in first", "Your session has ended. Sign in again, then "
                       "repeat what you were doing.")
    if request.method not in ("GET", "HEAD", "OPTIONS") and not _csrf_valid():
        return refusal(400, "Form refused", "This form's security token is missing or out of "
                       "date (CSRF protection). Reload the page and try again.")
    return None


def forget_admin(error: BaseException | None = None) -> None:
    # An app context pushed before the request (a test's, a CLI command's) shares its `g`:
    # the admin must not act beyond the request they signed.
    for name in ("admin_user", "console_token", "pre_session", "set_pre_session"):
        g.pop(name, None)


def refusal(status: int, title: str, detail: str) -> Response:
    return Response(render_template("console/error.html", title=title, detail=detail),
                    status=status)


def set_session_cookie(response: Response, token: str, expires_at: datetime) -> None:
    response.set_cookie(SESSION_COOKIE, token, expires=expires_at, path=COOKIE_PATH,
                        httponly=True, samesite="Lax",
                        secure=current_app.config["ADMIN_COOKIE_SECURE"])
    response.delete_cookie(PRE_SESSION_COOKIE, path=COOKIE_PATH)


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="Lax",
                           secure=current_app.config["ADMIN_COOKIE_SECURE"])


def finish_response(response: Response) -> Response:
    """The console's after_request: the pre-session cookie when a form needed one, and headers
    that keep its pages out of frames, caches and other sites' scripts."""
    if g.get("set_pre_session"):
        response.set_cookie(PRE_SESSION_COOKIE, g.pre_session, path=COOKIE_PATH, httponly=True,
                            samesite="Lax", secure=current_app.config["ADMIN_COOKIE_SECURE"])
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "console.static":
        headers["Cache-Control"] = "no-store"
    return response
