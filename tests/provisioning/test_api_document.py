"""The OpenAPI document states what the API enforces, and the API enforces what it states:
JSON types exactly, required bodies, time zones, business hours, free text, header values."""
from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa

from ringly.clients.models import WEEKDAYS, Client
from ringly.clients.schemas import TIME_ZONES
from ringly.db import db
from ringly.provisioning.models import ProvisioningJob
from ringly.text import PLAIN_TEXT, unsafe_fields

BODY = {"business_name": "Bella Salon", "email": "owner@bella.example", "areaCode": "415"}


@pytest.fixture
def shop(app_context) -> int:
    client = Client(business_name="Shop", email="s@example.com", timezone="America/Chicago")
    db.session.add(client)
    db.session.commit()
    return client.id


@pytest.fixture(scope="module")
def document(app) -> dict[str, Any]:
    return app.test_client().get("/api/openapi.json").get_json()


@pytest.mark.parametrize("body, field", [
    ({"mmsEnabled": 0}, "mmsEnabled"),
    ({"smsEnabled": "true"}, "smsEnabled"),
    ({"tollFree": 1}, "tollFree"),
    ({"limit": "10"}, "limit"),
    ({"limit": 2.5}, "limit"),
    ({"limit": True}, "limit"),
])
def test_a_search_with_a_value_of_the_wrong_json_type_is_a_422(client, api_headers, prov,
                                                                 body, field):
    # marshmallow's Boolean took 0 and "true", its Integer "10" and 2.5 (as 2).
    response = client.post("/api/clients/search-numbers", headers=api_headers, json=body)
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {field}


def test_settings_and_provisioning_take_only_json_booleans(client, api_headers, shop):
    refused = client.patch(f"/api/clients/{shop}", headers=api_headers,
                           json={"active": 0, "rachel_enabled": "no"})
    assert refused.status_code == 422
    assert set(refused.get_json()["errors"]) == {"active", "rachel_enabled"}
    assert db.session.get(Client, shop).active is True
    response = client.post("/api/clients/provision", headers=api_headers,
                           json={**BODY, "allowTollFreeFallback": "yes"})
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProvisioningJob)) == 0
    changed = client.patch(f"/api/clients/{shop}", headers=api_headers, json={"active": False})
    assert changed.status_code == 200 and changed.get_json()["active"] is False


def test_a_patch_without_a_body_is_a_422_and_one_that_is_not_json_a_415(client, api_headers,
                                                                         shop, document):
    # The document says the body is required; without one the PATCH changed nothing, with 200.
    assert document["paths"]["/api/clients/{client_id}"]["patch"]["requestBody"]["required"]
    missing = client.patch(f"/api/clients/{shop}", headers=api_headers)
    assert missing.status_code == 422
    assert missing.mimetype == "application/problem+json"
    assert missing.get_json()["errors"] == {"body": ["A JSON body is required."]}
    form = client.patch(f"/api/clients/{shop}", headers=api_headers, data={"active": "false"})
    assert form.status_code == 415 and form.mimetype == "application/problem+json"
    assert db.session.get(Client, shop).active is True
    # A body that is optional in the document stays optional.
    assert client.post("/api/clients/search-numbers", headers=api_headers).status_code != 422


def test_time_zones_are_the_documents_enum_and_nothing_else(client, api_headers, shop,
                                                            document):
    schemas = document["components"]["schemas"]
    for schema in (schemas["Client"], schemas["ProvisionRequest"]):
        assert schema["properties"]["timezone"]["enum"] == list(TIME_ZONES)
    assert "America/Chicago" in TIME_ZONES and "localtime" not in TIME_ZONES
    for zone in ("localtime", "posix/Europe/Paris", "", "Mars/Base"):
        response = client.patch(f"/api/clients/{shop}", headers=api_headers,
                                json={"timezone": zone})
        assert response.status_code == 422, zone
        assert response.get_json()["errors"] == {"timezone": ["unknown IANA time zone"]}
    assert client.patch(f"/api/clients/{shop}", headers=api_headers,
                        json={"timezone": "Europe/Paris"}).status_code == 200


def test_business_hours_are_described_day_by_day_and_span_by_span(client, api_headers, shop,
                                                                  document):
    hours = document["components"]["schemas"]["BusinessHours"]
    assert list(hours["properties"]) == list(WEEKDAYS)
    assert hours["additionalProperties"] is False
    span = hours["properties"]["mon"]["items"]
    assert span["minItems"] == span["maxItems"] == 2
    assert re.fullmatch(span["items"]["pattern"], "09:30")
    assert not re.fullmatch(span["items"]["pattern"], "24:00")
    for hours_value in ({"funday": []}, {"mon": [["09:00"]]}, {"mon": [["9:00", "17:00"]]},
                        {"mon": [["17:00", "09:00"]]}):
        response = client.patch(f"/api/clients/{shop}", headers=api_headers,
                                json={"business_hours": hours_value})
        assert response.status_code == 422, hours_value
    week = {"mon": [["08:00", "12:00"], ["13:00", "17:00"]], "sat": []}
    response = client.patch(f"/api/clients/{shop}", headers=api_headers,
                            json={"business_hours": week})
    assert response.status_code == 200 and response.get_json()["business_hours"] == week


def test_the_documents_text_pattern_refuses_exactly_what_the_server_refuses():
    pattern = re.compile(PLAIN_TEXT["pattern"])
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue  # lone surrogates: refused by the server, and no JSON Schema engine's text
        character = chr(code)
        text = f"a{character}b"
        assert bool(pattern.fullmatch(text)) is not bool(unsafe_fields(text)), hex(code)


def test_every_free_text_input_states_what_it_refuses(document):
    # A string in a query or a JSON body (where the server refuses control characters) without
    # a pattern, an enum or a format would invite what the server refuses with a 422: a new
    # field or parameter cannot forget to say it.
    unstated = [f"{method.upper()} {path}: {where}"
                for path, methods in document["paths"].items()
                for method, operation in methods.items() if isinstance(operation, dict)
                for where, schema in _inputs(document, operation)
                if schema.get("type") == "string"
                and not ({"pattern", "enum", "format"} & schema.keys())]
    assert not unstated


def test_an_idempotency_key_is_printable_ascii_as_the_document_says(client, api_headers, prov,
                                                                    document):
    parameters = document["paths"]["/api/clients/provision"]["post"]["parameters"]
    key = next(p for p in parameters if p["name"] == "Idempotency-Key")["schema"]
    assert re.fullmatch(key["pattern"], "order-17 retry") and key["maxLength"] == 255
    for value in ("clé-1", " "):  # "clé-1" passed as printable; " " is not a key at all
        assert not re.fullmatch(key["pattern"], value)
        response = client.post("/api/clients/provision", json=BODY,
                               headers={**api_headers, "Idempotency-Key": value})
        assert response.status_code == 422, value
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0


def test_contains_is_twilios_pattern(client, api_headers, prov):
    # "5+5" passed the old pattern and Twilio refused it (a 422 naming no field); "%" and "$",
    # which Twilio takes, were refused.
    refused = client.post("/api/clients/search-numbers", headers=api_headers,
                          json={"contains": "5+5"})
    assert refused.status_code == 422 and set(refused.get_json()["errors"]) == {"contains"}
    assert client.post("/api/clients/search-numbers", headers=api_headers,
                       json={"contains": "+1415%", "areaCode": "415"}).status_code == 200


def test_a_replay_of_a_completed_provision_matches_the_document(app, client, api_headers, prov):
    headers = {**api_headers, "Idempotency-Key": "replay-1"}
    first = client.post("/api/clients/provision", json=BODY, headers=headers)
    job = db.session.get(ProvisioningJob, first.get_json()["job"]["id"])
    job.state = "completed"
    db.session.commit()
    replay = client.post("/api/clients/provision", json=BODY, headers=headers)
    # 200 with the 202's shape, which the document's 200 did not allow.
    assert replay.status_code == 200 and replay.get_json()["job"]["id"] == job.id
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    schema["/api/clients/provision"]["POST"].validate_response(replay)


def _inputs(document: dict[str, Any], operation: dict[str, Any]):
    """(where, schema) for every value a client sends in the query or the JSON body, at any
    depth (answers' read-only fields left out)."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query":
            yield f"{parameter['in']} {parameter['name']}", parameter["schema"]
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        yield from _strings(document, body["schema"], "body")


def _strings(document: dict[str, Any], schema: dict[str, Any], where: str):
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if schema.get("readOnly"):
        return
    yield where, schema
    for name, child in schema.get("properties", {}).items():
        yield from _strings(document, child, f"{where}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _strings(document, schema[key], f"{where}[]")
    for child in schema.get("allOf", []) + schema.get("oneOf", []) + schema.get("anyOf", []):
        yield from _strings(document, child, where)
