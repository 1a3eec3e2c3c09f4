"""One error format everywhere: application/problem+json."""
from __future__ import annotations

import pytest


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
