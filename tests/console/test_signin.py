"""Signing in to the console: sessions, cookies, CSRF, limits on failed sign-ins, sign-out."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from ringly.admin import users
from ringly.admin.models import AdminSession, AuditEvent
from ringly.db import db
from tests.console.conftest import PASSWORD, csrf_of, post_form, sign_in

pytestmark = pytest.mark.smoke


def _address() -> str:
    """An address of the test's own, so failed sign-ins of other tests never count."""
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def test_every_console_page_sends_a_visitor_without_a_session_to_sign_in(client):
    for path in ("/admin/", "/admin/clients", "/admin/numbers", "/admin/jobs", "/admin/audit",
                 "/admin/events", "/admin/provision", "/admin/clients/1"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/admin/sign-in?next=")


def test_a_post_without_a_session_is_refused_and_changes_nothing(app, client):
    response = client.post("/admin/clients/1/settings", data={"active": "on"})
    assert response.status_code == 401
    assert "Sign in" in response.text


def test_signing_in_sets_a_session_cookie_a_script_cannot_read(app, client, admin):
    response = sign_in(client, admin.email, admin.password)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    cookie = next(value for value in response.headers.getlist("Set-Cookie")
                  if value.startswith("ringly_admin="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/admin" in cookie
    # Outside the embedded default the cookie only travels over HTTPS.
    assert "Secure" in cookie
    page = client.get("/admin/")
    assert page.status_code == 200 and admin.email in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_the_session_row_holds_only_a_hash_of_the_cookie(app, client, admin):
    response = sign_in(client, admin.email, admin.password)
    token = response.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    with app.app_context():
        stored = db.session.scalars(sa.select(AdminSession.token_hash)).all()
    assert stored and token not in stored


def test_a_wrong_password_an_unknown_email_and_a_disabled_admin_get_one_answer(app, client,
                                                                             admin):
    address = _address()
    wrong = sign_in(client, admin.email, "not the password at all", address)
    unknown = sign_in(client, "nobody@ringly.example", PASSWORD, address)
    with app.app_context():
        users.disable_admin(admin.email)
    disabled = sign_in(client, admin.email, admin.password, address)
    for response in (wrong, unknown, disabled):
        assert response.status_code == 401
        assert "The email or the password is wrong." in response.text
        assert "ringly_admin=" not in " ".join(response.headers.getlist("Set-Cookie"))


def test_the_sign_in_form_itself_needs_its_csrf_token(client, admin):
    client.get("/admin/sign-in")
    response = client.post("/admin/sign-in", data={"email": admin.email,
                                                   "password": admin.password})
    assert response.status_code == 400
    assert "CSRF" in response.text


def test_a_form_posted_without_its_csrf_token_is_refused(app, console):
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    for token in (None, "", "forged-token"):
        data = {"active": "on"} if token is None else {"active": "on", "csrf_token": token}
        response = console.post("/admin/sign-out", data=data)
        assert response.status_code == 400, token
        assert console.get("/admin/").status_code == 200  # still signed in
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before


def test_a_token_of_another_session_is_refused(app, admin):
    first, second = app.test_client(), app.test_client()
    sign_in(first, admin.email, admin.password)
    sign_in(second, admin.email, admin.password)
    token = csrf_of(first.get("/admin/").text)
    assert second.post("/admin/sign-out", data={"csrf_token": token}).status_code == 400
    assert first.post("/admin/sign-out", data={"csrf_token": token}).status_code == 302


def test_failed_sign_ins_are_limited_per_account(app, client, admin):
    address = _address()
    for _ in range(5):
        assert sign_in(client, admin.email, "wrong password, again", address).status_code == 401
    # Blocked now, even with the right password, and from any other address too.
    blocked = sign_in(client, admin.email, admin.password, _address())
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in blocked.text


def test_failed_sign_ins_are_limited_per_address(app, client, admin):
    address = _address()
    for attempt in range(20):
        email = f"guess-{attempt}@ringly.example"
        assert sign_in(client, email, "wrong password, again", address).status_code == 401
    assert sign_in(client, admin.email, admin.password, address).status_code == 429
    assert sign_in(client, admin.email, admin.password, _address()).status_code == 302


def test_signing_out_ends_the_session_and_its_cookie_for_good(app, console, admin):
    cookie = console.get_cookie("ringly_admin", path="/admin").value
    response = post_form(console, "/admin/", "/admin/sign-out")
    assert response.status_code == 302 and "signed_out=1" in response.headers["Location"]
    assert console.get("/admin/").status_code == 302
    # The old cookie, replayed, no longer signs anyone in.
    replay = app.test_client()
    replay.set_cookie("ringly_admin", cookie, path="/admin")
    assert replay.get("/admin/").status_code == 302
    with app.app_context():
        kinds = db.session.scalars(sa.select(AuditEvent.kind).where(
            AuditEvent.actor == f"admin {admin.email}")).all()
    assert "admin.signed_in" in kinds and "admin.signed_out" in kinds


def test_disabling_an_admin_signs_out_every_browser_at_once(app, console, admin):
    with app.app_context():
        users.disable_admin(admin.email)
    assert console.get("/admin/").status_code == 302


def test_after_sign_in_the_admin_lands_where_they_were_going_and_never_off_site(client, admin):
    page = client.get("/admin/sign-in?next=/admin/jobs")
    response = client.post("/admin/sign-in", data={
        "email": admin.email, "password": admin.password, "next": "/admin/jobs",
        "csrf_token": csrf_of(page.text)})
    assert response.headers["Location"] == "/admin/jobs"
    for target in ("https://evil.example/", "//evil.example/admin", "/api/clients",
                   "/admin\\@evil.example"):
        other = client.__class__(client.application)
        page = other.get("/admin/sign-in")
        response = other.post("/admin/sign-in", data={
            "email": admin.email, "password": admin.password, "next": target,
            "csrf_token": csrf_of(page.text)})
        assert response.headers["Location"] == "/admin/", target
