"""Every console route, from the URL map: closed without a session, and every form-taking route
refuses a request without its CSRF token. A new route cannot escape."""
from __future__ import annotations

import pytest

from tests.console.conftest import sign_in

pytestmark = pytest.mark.smoke
PUBLIC = {"console.sign_in", "console.static"}


def _console_rules(app):
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("console.")]
    assert len(rules) >= 15
    return rules


def _path(rule) -> str:
    values = {name: ("1" if name.endswith("_id") and name != "job_id" else "x")
              for name in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def test_no_console_route_answers_without_a_session(app, client):
    for rule in _console_rules(app):
        if rule.endpoint in PUBLIC:
            continue
        path = _path(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method)
            expected = 302 if method == "GET" else 401
            assert response.status_code == expected, (method, path, response.status_code)


def test_no_console_form_is_taken_without_its_csrf_token(app, admin):
    browser = app.test_client()
    sign_in(browser, admin.email, admin.password)
    for rule in _console_rules(app):
        for method in sorted(rule.methods - {"GET", "HEAD", "OPTIONS"}):
            response = browser.open(_path(rule), method=method, data={"confirm_number": "x"})
            assert response.status_code == 400, (method, rule.rule)
            assert "CSRF" in response.text


def test_console_pages_are_never_framed_cached_or_sniffed(app, admin):
    browser = app.test_client()
    sign_in(browser, admin.email, admin.password)
    for path in ("/admin/", "/admin/sign-in", "/admin/clients"):
        headers = browser.get(path).headers
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "script-src 'self'" in headers["Content-Security-Policy"]
