"""Ringly's Flask does less per request than a stock one, and the same: a url-encoded form reads
as werkzeug reads it, no cookie session is opened, the rate limiter sits out requests without
an API key (webhooks)."""
from __future__ import annotations

import io
from urllib.parse import parse_qsl, urlencode

import pytest
from flask import request_finished, session
from flask.globals import request_ctx
from werkzeug.wrappers import Request

from ringly import form_items
from tests.voice.conftest import CALLER, CLIENT_NUMBER, make_client, signed_post

BODIES = [
    "",
    "&&",
    "a=1",
    "a=1&a=2&b=",
    "flag&=empty-name&x==y",
    "From=%2B13125550199&SpeechResult=Mar%C3%ADa+L%C3%B3pez&Digits=1+2",
    "bad=%ZZ&half=%E2%82&plus=a+b%2Bc&space=%20",
    "ñ=sí&emoji=%F0%9F%98%80",
    urlencode({"SpeechResult": "5 & 6 = <eleven>; \"quoted\"", "Confidence": "0.92"}),
]


@pytest.mark.parametrize("body", BODIES)
def test_a_form_reads_as_werkzeug_reads_it(body):
    assert form_items(body) == parse_qsl(body, keep_blank_values=True,
                                         errors="werkzeug.url_quote")


@pytest.mark.parametrize("body", BODIES)
def test_a_posted_form_is_the_one_werkzeug_would_parse(app, body):
    raw = body.encode()
    werkzeug_form = Request({
        "REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(raw)), "wsgi.input": io.BytesIO(raw)}).form
    for content_type in ("application/x-www-form-urlencoded",
                         "Application/X-WWW-Form-URLEncoded; charset=UTF-8"):
        with app.test_request_context("/voice/rachel/", method="POST", data=raw,
                                      content_type=content_type) as context:
            assert list(context.request.form.items(multi=True)) == \
                list(werkzeug_form.items(multi=True))
            assert context.request.files == {}
            assert context.request.get_data() == raw


def test_no_request_opens_a_cookie_session(app, client, api_headers):
    with app.test_request_context("/api/clients", headers={"Cookie": "session=forged"}):
        assert session.get("anything") is None
        with pytest.raises(RuntimeError):
            session["anything"] = 1  # nowhere to keep it
    response = client.get("/api/clients", headers=api_headers)
    assert response.status_code == 200 and "Set-Cookie" not in response.headers


def test_a_webhook_does_no_rate_limit_bookkeeping(app, client, api_headers):
    make_client(app)
    touched: list[bool] = []

    def inspect(sender, response, **extra):
        touched.append(hasattr(request_ctx._get_current_object(), "_limiter_request_context"))

    request_finished.connect(inspect, app)
    try:
        signed_post(client, app, "/voice/rachel/", {
            "CallSid": "CA" + "e" * 32, "From": CALLER, "To": CLIENT_NUMBER})
        client.get("/api/clients", headers=api_headers)
    finally:
        request_finished.disconnect(inspect, app)
    assert touched == [False, True]  # the webhook never reached the limiter; the API did
