"""Every route the app serves, taken from `app.url_map`, is guarded: /api routes need a live key
with the operation's scope (401/403 problems otherwise), webhooks need Twilio's signature for
this URL and these parameters (403, nothing stored). A route added later is in the list too."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.routing import IntegerConverter, Rule

from ringly.admin.auth import PUBLIC_API_PATHS
from ringly.admin.scopes import ADMIN, PROVISION, READ, SCOPES, declared_access
from ringly.admin.services import create_api_key, revoke_api_key
from ringly.clients.models import Client
from ringly.db import db
from ringly.telephony.signatures import sign_request

pytestmark = pytest.mark.smoke

# The scope each operation needs (None: any valid key). A new /api route must be added here
# with its decorator, so that giving it a scope is a decision someone reviewed.
EXPECTED_SCOPES = {
    ("GET", "/api/me"): None,
    ("GET", "/api/audit-events"): ADMIN,
    ("POST", "/api/clients/provision"): PROVISION,
    ("GET", "/api/provisioning-jobs"): READ,
    ("GET", "/api/provisioning-jobs/<job_id>"): READ,
    ("POST", "/api/clients/search-numbers"): PROVISION,
    ("GET", "/api/clients/numbers/all"): ADMIN,
    ("GET", "/api/clients/<int:client_id>/number"): READ,
    ("DELETE", "/api/clients/<int:client_id>/number"): ADMIN,
    ("PUT", "/api/clients/<int:client_id>/number/webhooks"): ADMIN,
    ("GET", "/api/clients"): READ,
    ("GET", "/api/clients/<int:client_id>"): READ,
    ("PATCH", "/api/clients/<int:client_id>"): ADMIN,
    ("GET", "/api/clients/<int:client_id>/appointments"): READ,
    ("GET", "/api/clients/<int:client_id>/calls"): READ,
    ("GET", "/api/clients/<int:client_id>/usage"): READ,
    ("GET", "/api/clients/<int:client_id>/messages"): READ,
    ("POST", "/api/event-endpoints"): ADMIN,
    ("GET", "/api/event-endpoints"): ADMIN,
    ("GET", "/api/event-endpoints/<int:endpoint_id>"): ADMIN,
    ("DELETE", "/api/event-endpoints/<int:endpoint_id>"): ADMIN,
    ("GET", "/api/event-endpoints/<int:endpoint_id>/deliveries"): ADMIN,
    ("GET", "/api/events"): READ,
}
# Routes that are neither /api nor webhooks, each public on purpose.
PUBLIC_ROUTES = {
    "/static/<path:filename>": "Flask's static files (none are secret)",
    "/healthz": "liveness, says nothing",
    "/readyz": "readiness, names checks only",
    "/audio/<name>.mp3": "rendered prompts Twilio fetches by an unguessable hash",
    # Not an API key's business: Prometheus scrapes it with its own bearer METRICS_TOKEN; without
    # one it is 404, except on loopback on the embedded default (tests/test_metrics.py).
    "/metrics": "Prometheus metrics, behind METRICS_TOKEN",
}
MALFORMED_AUTHORIZATION = ["Basic cmluZ2x5OnJpbmdseQ==", "Bearer", "Bearer ", "rk_abc",
                           "Bearerrk_abc", "Token rk_abc"]
CLIENT_NUMBER = "+13125550142"
STORED_TABLES = ("calls", "messages", "appointments", "audit_events")


def _methods(rule: Rule) -> list[str]:
    return sorted(rule.methods - {"OPTIONS"})


def _path(rule: Rule) -> str:
    """The rule's URL with each path parameter filled with a plausible value."""
    values: dict[str, Any] = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            values[name] = 1
        elif name == "persona":
            values[name] = "rachel"
        elif name == "step":
            values[name] = "intent"
        elif name == "job_id":
            values[name] = str(uuid.uuid4())
        else:
            values[name] = "a" * 64
    return rule.build(values, append_unknown=False)[1]


def api_routes(app: Flask) -> list[tuple[str, Rule]]:
    return [(method, rule) for rule in app.url_map.iter_rules()
            if rule.rule.startswith("/api") and not rule.rule.startswith(PUBLIC_API_PATHS)
            for method in _methods(rule)]


def webhook_rules(app: Flask) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules()
            if rule.rule.startswith(("/voice/", "/webhook/"))]


def _key(app: Flask, scopes: tuple[str, ...], revoked: bool = False) -> str:
    with app.app_context():
        name = f"matrix-{uuid.uuid4().hex[:8]}"
        _, raw_key = create_api_key(name, scopes)
        if revoked:
            revoke_api_key(name)
        db.session.remove()
    return raw_key


def _assert_problem(response: Any, method: str, status: int, where: str) -> None:
    assert response.status_code == status, (where, response.status_code, response.data[:300])
    assert response.mimetype == "application/problem+json", where
    if method != "HEAD":
        assert response.get_json()["status"] == status, where


def test_every_route_is_an_api_route_a_webhook_or_public_on_purpose(app):
    api = {rule.rule for _, rule in api_routes(app)}
    webhooks = {rule.rule for rule in webhook_rules(app)}
    public_api = {rule.rule for rule in app.url_map.iter_rules()
                  if rule.rule.startswith(PUBLIC_API_PATHS)}
    # The console's routes need a signed-in admin instead (tests/console/test_routes.py).
    console = {rule.rule for rule in app.url_map.iter_rules()
               if rule.endpoint.startswith("console.")}
    unexplained = {rule.rule for rule in app.url_map.iter_rules()} - api - webhooks - \
        public_api - console
    assert unexplained <= PUBLIC_ROUTES.keys(), unexplained - PUBLIC_ROUTES.keys()
    assert len(api) >= 14 and len(webhooks) >= 7


def test_every_api_operation_declares_the_scope_we_expect(app):
    declared = {}
    for method, rule in api_routes(app):
        if method == "HEAD":
            continue
        access = declared_access(app, rule.endpoint, method)
        assert access is not None, f"{method} {rule.rule} declares no scope (@requires_scope)"
        declared[(method, rule.rule)] = access.scope
    assert declared == EXPECTED_SCOPES


def test_every_api_operation_states_its_scope_in_the_openapi_document(client):
    document = client.get("/api/openapi.json").get_json()
    for (method, rule), scope in EXPECTED_SCOPES.items():
        path = rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        operation = document["paths"][path][method.lower()]
        assert operation["x-required-scope"] == scope, (method, rule)
        assert {"401", "403", "429"} <= operation["responses"].keys(), (method, rule)
        if scope:
            assert f"`{scope}` scope" in operation["description"], (method, rule)


def test_every_api_route_refuses_missing_revoked_malformed_and_underscoped_keys(app, client):
    revoked = _key(app, SCOPES, revoked=True)
    keys_without = {scope: _key(app, tuple(s for s in SCOPES if s != scope)) for scope in SCOPES}
    every_scope = _key(app, SCOPES)
    routes = api_routes(app)
    for index, (method, rule) in enumerate(routes):
        path = _path(rule)
        where = f"{method} {path}"

        def send(headers: dict[str, str], path: str = path, method: str = method) -> Any:
            return client.open(path, method=method, headers=headers, json={})

        _assert_problem(send({}), method, 401, f"{where} without a key")
        _assert_problem(send({"Authorization": f"Bearer {revoked}"}), method, 401,
                        f"{where} with a revoked key")
        malformed = MALFORMED_AUTHORIZATION[index % len(MALFORMED_AUTHORIZATION)]
        _assert_problem(send({"Authorization": malformed}), method, 401,
                        f"{where} with Authorization: {malformed}")
        scope = EXPECTED_SCOPES[("GET" if method == "HEAD" else method, rule.rule)]
        if scope is not None:
            refused = send({"Authorization": f"Bearer {keys_without[scope]}"})
            _assert_problem(refused, method, 403, f"{where} without the {scope} scope")
            if method != "HEAD":
                assert refused.get_json().get("required_scope") == scope, where
                assert f"'{scope}'" in refused.get_json()["detail"], where
        # With the scope the guard lets it through (whatever the operation then answers).
        allowed = send({"Authorization": f"Bearer {every_scope}"})
        assert allowed.status_code not in (401, 403), (where, allowed.data[:300])


def test_an_operation_that_declares_no_scope_is_refused_to_every_key(
    app, service_env, tmp_path
):
    from ringly import create_app

    other = create_app({"ENVIRON": service_env, "INSTANCE_PATH": str(tmp_path)})
    other.add_url_rule("/api/forgotten", "forgotten", lambda: {"secret": True})
    raw_key = _key(other, SCOPES)
    response = other.test_client().get("/api/forgotten",
                                       headers={"Authorization": f"Bearer {raw_key}"})
    _assert_problem(response, "GET", 403, "an undeclared route")
    assert "declares no scope" in response.get_json()["detail"]


def _counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        counts = {table: db.session.scalar(sa.text(f"SELECT count(*) FROM {table}"))
                  for table in STORED_TABLES}
        db.session.remove()
    return counts


def _webhook_params(app: Flask) -> dict[str, str]:
    """What Twilio sends to one webhook or another: enough that each would store something."""
    return {
        "AccountSid": app.config["TWILIO_ACCOUNT_SID"], "CallSid": "CA" + uuid.uuid4().hex,
        "MessageSid": "SM" + uuid.uuid4().hex, "SmsSid": "SM" + uuid.uuid4().hex,
        "From": "+13125550199", "To": CLIENT_NUMBER, "Body": "hello", "Direction": "inbound",
        "CallStatus": "completed", "CallDuration": "30", "MessageStatus": "delivered",
        "Digits": "1", "SpeechResult": "book an appointment", "Confidence": "0.9",
        "RecordingUrl": "https://api.twilio.com/rec/RE1", "RecordingSid": "RE" + uuid.uuid4().hex,
        "RecordingDuration": "7", "TranscriptionText": "please call me back",
        "TranscriptionStatus": "completed",
    }


def test_every_webhook_refuses_unsigned_wrongly_signed_and_tampered_requests(app, client):
    with app.app_context():
        db.session.add(Client(business_name="Matrix Salon", email="desk@matrix.example",
                              ringlypro_number=CLIENT_NUMBER))
        db.session.commit()
        db.session.remove()
    base, token = app.config["WEBHOOK_BASE_URL"], app.config["TWILIO_AUTH_TOKEN"]
    before = _counts(app)
    rules = webhook_rules(app)
    for rule in rules:
        path = _path(rule)
        params = _webhook_params(app)
        tampered = {**params, "From": "+442071838750"}
        attempts = {
            "unsigned": (params, None),
            "signed with the wrong token": (params, sign_request("not-the-token", base + path,
                                                                 params)),
            "signed for another path": (params, sign_request(token, base + "/voice/elsewhere",
                                                             params)),
            "signed for another host": (params, sign_request(
                token, "https://attacker.example" + path, params)),
            "a parameter changed after signing": (tampered, sign_request(token, base + path,
                                                                         params)),
        }
        for what, (sent, signature) in attempts.items():
            headers = {"X-Twilio-Signature": signature} if signature else {}
            response = client.post(path, data=sent, headers=headers)
            assert response.status_code == 403, (path, what, response.status_code)
    assert _counts(app) == before, "a refused webhook stored something"

    # The same requests, signed as Twilio signs them, are served: the refusals above were the
    # signature's doing, and these parameters do store rows.
    for rule in rules:
        path = _path(rule)
        params = _webhook_params(app)
        response = client.post(path, data=params, headers={
            "X-Twilio-Signature": sign_request(token, base + path, params)})
        assert response.status_code != 403, path
    assert _counts(app) != before
