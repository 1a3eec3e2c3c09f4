"""One way to page: signed cursors for one list each, and every list route documents it."""
from __future__ import annotations

import pytest
from flask import Flask

from ringly import create_app
from ringly.errors import InvalidInput
from ringly.paging import decode_cursor, encode_cursor, row_id


@pytest.fixture
def cursor_app(tmp_path) -> Flask:
    return create_app({"ENVIRON": {}, "INSTANCE_PATH": str(tmp_path)})


def test_a_cursor_reads_back_what_it_holds(cursor_app):
    with cursor_app.app_context():
        assert decode_cursor("calls", encode_cursor("calls", 17), row_id) == (17,)
        token = encode_cursor("appointments", "2026-12-01T10:00:00+00:00", 3)
        assert decode_cursor("appointments", token, str, row_id) == (
            "2026-12-01T10:00:00+00:00", 3)


@pytest.mark.parametrize("make_token", [
    lambda: encode_cursor("messages", 17),                       # another list's cursor
    lambda: encode_cursor("calls", 17).replace(".", ".x", 1),     # signature altered
    lambda: "WzE4XQ." + encode_cursor("calls", 17).split(".")[1],  # payload swapped
    lambda: encode_cursor("calls", 17).split(".")[0],             # signature dropped
    lambda: encode_cursor("calls", 17, 18),                       # wrong shape
    lambda: encode_cursor("calls", "17"),                         # wrong type
    lambda: encode_cursor("calls", 2**31),                        # no id is that big
    lambda: "",
    lambda: "\u00e9t\u00e9.\u00e9t\u00e9",
])
def test_a_cursor_this_list_did_not_give_out_is_invalid_input(cursor_app, make_token):
    with cursor_app.app_context():
        token = make_token()
        with pytest.raises(InvalidInput) as caught:
            decode_cursor("calls", token, row_id)
    assert caught.value.errors == {"cursor": ["Not a cursor from a previous page."]}


def test_a_cursor_signed_with_another_secret_key_is_invalid_input(tmp_path):
    one = create_app({"ENVIRON": {}, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "one"})
    other = create_app({"ENVIRON": {}, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "two"})
    with one.app_context():
        token = encode_cursor("calls", 17)
    with other.app_context(), pytest.raises(InvalidInput):
        decode_cursor("calls", token, row_id)


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _rows(spec: dict, schema: dict) -> bool:
    """An array of objects (rows), not of plain values such as a key's scopes."""
    schema = _resolve(spec, schema)
    return schema.get("type") == "array" and "properties" in _resolve(spec, schema["items"])


def _is_list(spec: dict, operation: dict) -> bool:
    """A GET whose answer is rows, or an object holding rows (the original's page shapes)."""
    content = operation["responses"].get("200", {}).get("content", {})
    schema = _resolve(spec, content.get("application/json", {}).get("schema", {}))
    return _rows(spec, schema) or any(
        _rows(spec, prop) for prop in schema.get("properties", {}).values())


def test_every_list_route_documents_limit_cursor_and_the_next_page_headers(cursor_app):
    spec = cursor_app.test_client().get("/api/openapi.json").get_json()
    # A resource named by its id (/api/clients/{client_id}) may hold rows of its own settings
    # (closed dates) without being a list.
    lists = {path: ops["get"] for path, ops in spec["paths"].items()
             if "get" in ops and not path.endswith("}") and _is_list(spec, ops["get"])}
    assert {"/api/clients", "/api/clients/numbers/all", "/api/clients/{client_id}/calls",
            "/api/clients/{client_id}/messages",
            "/api/clients/{client_id}/appointments"} <= set(lists)
    for path, operation in lists.items():
        query = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}
        assert query["limit"]["schema"]["maximum"] == 200, path
        assert query["cursor"]["schema"]["type"] == "string", path
        assert "opaque" in query["cursor"]["description"], path
        assert {"Link", "X-Next-Cursor"} <= set(operation["responses"]["200"]["headers"]), path
