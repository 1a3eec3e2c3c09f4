"""Console fixtures: an admin, and a test client signed in as them through the sign-in form."""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ringly.admin import users
from ringly.db import db
from tests.provisioning.conftest import prov  # noqa: F401  (the sandbox wired to the app)

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Admin:
    id: int
    email: str
    password: str


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = _CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def sign_in(client: FlaskClient, email: str, password: str, address: str = "127.0.0.1"):
    page = client.get("/admin/sign-in", environ_base={"REMOTE_ADDR": address})
    return client.post("/admin/sign-in", data={
        "email": email, "password": password, "csrf_token": csrf_of(page.text)},
        environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def admin(app: Flask) -> Iterator[Admin]:
    with app.app_context():
        created = users.create_admin(f"ops-{uuid.uuid4().hex[:6]}@ringly.example", PASSWORD)
        yield Admin(created.id, created.email, PASSWORD)
        db.session.remove()


@pytest.fixture
def console(app: Flask, admin: Admin) -> FlaskClient:
    """A test client signed in to the console."""
    client = app.test_client()
    response = sign_in(client, admin.email, admin.password)
    assert response.status_code == 302, response.text
    return client


def post_form(client: FlaskClient, page_url: str, action: str, data: dict | None = None):
    """Post `data` to `action` with the CSRF token of the form on `page_url`, as a browser
    submitting that page's form would."""
    token = csrf_of(client.get(page_url).text)
    return client.post(action, data={**(data or {}), "csrf_token": token})
