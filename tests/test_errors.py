"""One error format everywhere: application/problem+json."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from ringly.db import db
from tests.voice.conftest import signed_post


@pytest.mark.smoke
def test_unknown_route_is_a_problem_document(client, api_headers):
    response = client.get("/api/no-such-thing", headers=api_headers)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["status"] == 404
    assert body["type"].startswith("urn:ringly:problem:")
    assert body["title"] and body["detail"]


def test_wrong_method_is_a_405_problem_with_allow(client, api_headers):
    response = client.delete("/api/me", headers=api_headers)
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert "GET" in response.headers["Allow"]


def test_non_api_routes_answer_problems_too(client):
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_a_body_that_is_not_json_is_a_400_saying_so(client, api_headers):
    response = client.post("/api/clients/provision", data="{not json",
                           headers={**api_headers, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.json["detail"] == "Invalid JSON body."


def test_a_body_over_the_limit_is_a_413_problem_and_nothing_is_stored(app, client, api_headers):
    import sqlalchemy as sa

    from ringly.db import db
    from ringly.provisioning.models import ProvisioningJob

    huge = b'{"business_name": "' + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1) + b'"}'
    response = client.post("/api/clients/provision", data=huge,
                           headers={**api_headers, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "urn:ringly:problem:request-entity-too-large"
    # A webhook too: refused before its signature (or anything else) is looked at.
    form = b"CallSid=CA1&SpeechResult=" + b"a" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/voice/rachel/", data=form,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ProvisioningJob)) == 0


@pytest.mark.smoke
def test_the_openapi_document_describes_errors_as_problems(client):
    spec = client.get("/api/openapi.json").get_json()
    default = spec["components"]["responses"]["DEFAULT_ERROR"]["content"]
    assert list(default) == ["application/problem+json"]
    problem = spec["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem)
    # Money is a decimal string in the answers, and the document says so.
    usage = spec["components"]["schemas"]["Usage"]["properties"]
    assert usage["call_cost"]["type"] == "string" and usage["number_cost"]["type"] == "string"
    # A path id is bounded by what an id column holds.
    calls = spec["paths"]["/api/clients/{client_id}/calls"]
    parameters = calls.get("parameters") or calls["get"]["parameters"]
    client_id = next(p for p in parameters if p["name"] == "client_id")
    assert client_id["schema"]["maximum"] == 2**31 - 1


@pytest.mark.smoke
def test_control_characters_in_api_input_are_a_422_naming_each_place(client, api_headers):
    response = client.patch("/api/clients/1", headers=api_headers,
                            json={"custom_greeting": "Hi\x00there", "business_hours": {
                                "mon": [["09:00\x0b", "17:00"]]}})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert set(response.json["errors"]) == {"custom_greeting", "business_hours.mon.0.0"}
    response = client.post("/api/clients/provision", headers=api_headers, json={
        "business_name": "A\x00B", "email": "a@example.com", "areaCode": "415"})
    assert response.status_code == 422 and set(response.json["errors"]) == {"business_name"}
    response = client.get("/api/clients?q=%00", headers=api_headers)
    assert response.status_code == 422 and set(response.json["errors"]) == {"q"}
    # Line breaks and tabs are ordinary text.
    response = client.get("/api/clients?q=a%09b", headers=api_headers)
    assert response.status_code == 200


CONTROL_CHARACTERS = ("%00", "%01", "%09", "%0a", "%1f", "%7f", "%c2%85")


def _paths_with_control_characters(app):
    """Every route of the URL map with a control character in each variable, or appended."""
    for rule in app.url_map.iter_rules():
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        samples = {name: "1" if type(converter).__name__ == "RowIdConverter" else "x"
                   for name, converter in rule._converters.items()}
        for char in CONTROL_CHARACTERS:
            if samples:
                for name in samples:
                    values = dict(samples, **{name: samples[name] + char})
                    path = rule.rule
                    for variable, value in values.items():
                        path = re.sub(rf"<(?:[^>:]+:)?{variable}>", value, path)
                    yield rule.rule, methods, path
            else:
                yield rule.rule, methods, rule.rule.rstrip("/") + char
                yield rule.rule, methods, rule.rule.replace("/", "/" + char, 1)


def test_a_control_character_anywhere_in_any_path_is_a_404_problem_before_the_database(
        app, client, api_headers):
    # e.g. GET /api/provisioning-jobs/%00 was a 500: the NUL reached PostgreSQL.
    statements = []

    def count(*_args):
        statements.append(1)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    tried = 0
    try:
        for rule, methods, path in _paths_with_control_characters(app):
            for method in methods:
                response = client.open(path, method=method, headers=api_headers)
                assert response.status_code == 404, (method, path, rule, response.json)
                assert response.mimetype == "application/problem+json", (method, path)
                tried += 1
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert tried > 100
    # Neither the key check nor any view looked at the database for these requests.
    assert statements == []
    # The brief's examples, by name.
    for path in ("/api/provisioning-jobs/%00", "/voice/rachel/%01/1", "/audio/%7f.mp3"):
        assert client.get(path, headers=api_headers).status_code == 404
        assert client.post(path, headers=api_headers).status_code == 404


def _app_with(service_env, tmp_path, **settings):
    from ringly import create_app

    return create_app({"ENVIRON": {**service_env, **settings},
                       "INSTANCE_PATH": str(tmp_path / "instance")})


def test_a_database_outage_is_a_503_problem_with_retry_after_not_a_500(
        app, service_env, api_key, tmp_path):
    # Nothing listens on this port: every connection attempt fails, as while PostgreSQL restarts.
    from tests.support.wsgi_server import free_port

    down = _app_with(service_env, tmp_path,
                     DATABASE_URL=f"postgresql://postgres@127.0.0.1:{free_port()}/ringly")
    http = down.test_client()
    for method, path in (("GET", "/api/me"), ("GET", "/api/provisioning-jobs"),
                         ("POST", "/api/clients/provision")):
        response = http.open(path, method=method, json={} if method == "POST" else None,
                             headers={"Authorization": f"Bearer {api_key}"})
        assert response.status_code == 503, (path, response.data[:200])
        assert response.mimetype == "application/problem+json"
        assert response.headers["Retry-After"] == "5"
        assert response.json["type"] == "urn:ringly:problem:dependency-unavailable"
        assert response.json["dependency"] == "database"
    # A Twilio webhook gets the same 503 (Twilio then asks the number's fallback URL).
    response = signed_post(http, down, "/voice/rachel/", {
        "CallSid": "CA" + "1" * 32, "From": "+13125550199", "To": "+13125550100"})
    assert response.status_code == 503 and response.mimetype == "application/problem+json"


def test_a_broker_outage_met_inside_a_request_is_a_503_problem(service_env, tmp_path):
    from ringly import tasks
    from ringly.queue import send_now
    from tests.support.wsgi_server import free_port

    down = _app_with(service_env, tmp_path,
                     CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0")
    # A task sent at once (as a sweep does) while the broker is down, inside a request.
    down.add_url_rule("/send-now", "send_now",
                      lambda: send_now(tasks.SWEEP_STALE_JOBS, retry=False) or "sent")
    response = down.test_client().get("/send-now")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "5"
    assert response.json["dependency"] in ("broker", "redis")
