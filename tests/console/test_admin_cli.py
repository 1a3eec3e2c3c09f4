"""`flask admin create|list|disable`: the console's admins, their passwords never on the
command line, each error one line."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from ringly.admin import users
from ringly.admin.models import AdminSession, AdminUser, AuditEvent
from ringly.db import db, utcnow
from tests.console.conftest import sign_in

pytestmark = pytest.mark.smoke
PASSWORD = "a long enough passphrase"


def run(app, *args: str, input: str | None = None):
    result = app.test_cli_runner().invoke(args=["admin", *args], input=input)
    with app.app_context():
        db.session.remove()
    return result


def test_create_reads_the_password_from_stdin_and_stores_only_its_hash(app):
    created = run(app, "create", "Ops@Ringly.example", "--password-stdin", input=PASSWORD + "\n")
    assert created.exit_code == 0 and "created admin ops@ringly.example" in created.output
    with app.app_context():
        admin = db.session.scalar(sa.select(AdminUser))
        assert admin.email == "ops@ringly.example"
        assert PASSWORD not in admin.password_hash and admin.password_hash.startswith("scrypt:")
        assert check_password_hash(admin.password_hash, PASSWORD)
        [event] = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.kind == "admin.created")).all()
        assert event.actor == "cli admin create"
    assert sign_in(app.test_client(), "ops@ringly.example", PASSWORD).status_code == 302


@pytest.mark.parametrize(("args", "stdin", "says"), [
    (("create", "not-an-email", "--password-stdin"), PASSWORD, "email address"),
    (("create", "ops@ringly.example", "--password-stdin"), "short", "12 to 256 characters"),
    (("create", "ops@ringly.example"), PASSWORD, "--password-stdin"),
    (("disable", "nobody@ringly.example"), None, "no admin nobody@ringly.example"),
])
def test_every_mistake_is_one_line_and_exit_code_1_or_2(app, args, stdin, says):
    result = run(app, *args, input=stdin)
    assert result.exit_code in (1, 2)
    assert says in result.output
    assert "Traceback" not in result.output


def test_an_email_is_one_admin(app):
    run(app, "create", "ops@ringly.example", "--password-stdin", input=PASSWORD)
    again = run(app, "create", "OPS@ringly.example", "--password-stdin", input=PASSWORD)
    assert again.exit_code == 1 and "already exists" in again.output


def test_list_shows_each_admin_and_disable_ends_their_sessions(app):
    run(app, "create", "ops@ringly.example", "--password-stdin", input=PASSWORD)
    run(app, "create", "night@ringly.example", "--password-stdin", input=PASSWORD)
    browser = app.test_client()
    sign_in(browser, "night@ringly.example", PASSWORD)
    assert browser.get("/admin/").status_code == 200
    disabled = run(app, "disable", "night@ringly.example")
    assert disabled.exit_code == 0
    listed = run(app, "list").output.splitlines()
    assert len(listed) == 2
    night = next(line for line in listed if line.startswith("night@"))
    assert f"disabled {utcnow():%Y-%m-%d}" in night and "last sign-in 20" in night
    assert "active" in [line for line in listed if line.startswith("ops@")][0]
    assert browser.get("/admin/").status_code == 302  # signed out at once
    assert sign_in(app.test_client(), "night@ringly.example", PASSWORD,
                   "10.9.9.9").status_code == 401


def test_sessions_end_after_admin_session_hours_and_are_then_deleted(app):
    run(app, "create", "ops@ringly.example", "--password-stdin", input=PASSWORD)
    browser = app.test_client()
    sign_in(browser, "ops@ringly.example", PASSWORD)
    with app.app_context():
        db.session.execute(sa.update(AdminSession).values(
            expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert browser.get("/admin/").status_code == 302
        assert users.expire_sessions() == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AdminSession)) == 0
