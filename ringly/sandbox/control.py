"""Unauthenticated JSON control API under /sandbox/: reset, state, faults, carriers, services."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from ringly.sandbox.context import sandbox_context
from ringly.sandbox.delivery import deliver_messages
from ringly.sandbox.resources import SERVICE_SID

control_api = Blueprint("sandbox_control", __name__, url_prefix="/sandbox")


def problem(status: int, title: str, detail: str) -> Response:
    """An RFC 9457 problem answer, the shape every control-route error uses."""
    response = jsonify({"type": "about:blank", "title": title, "status": status, "detail": detail})
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _public(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in record.items() if k != "_seq"} for record in records]


@control_api.post("/reset")
def reset_sandbox() -> Response:
    ctx = sandbox_context()
    ctx.state.reset()
    ctx.faults.clear()
    ctx.requests.clear()
    ctx.controls.clear()
    return jsonify({"reset": True})


@control_api.get("/ledger")
def read_ledger() -> Response:
    return jsonify({"ledger": sandbox_context().state.ledger()})


@control_api.get("/numbers")
def read_owned_numbers() -> Response:
    return jsonify({"numbers": _public(sandbox_context().state.owned_numbers())})


@control_api.get("/messages")
def read_messages() -> Response:
    return jsonify({"messages": _public(sandbox_context().state.messages())})


@control_api.get("/requests")
def read_request_counts() -> Response:
    counts = sandbox_context().requests.snapshot()
    return jsonify({"requests": counts, "total": sum(counts.values())})


@control_api.delete("/requests")
def clear_request_counts() -> Response:
    sandbox_context().requests.clear()
    return jsonify({"requests": {}, "total": 0})


@control_api.get("/faults")
def read_faults() -> Response:
    ctx = sandbox_context()
    return jsonify({"faults": ctx.faults.settings(), "in_flight": ctx.faults.in_flight()})


@control_api.post("/faults")
def configure_faults() -> Response:
    settings = request.get_json(silent=True)
    if not isinstance(settings, dict):
        return problem(400, "Bad fault settings", "Send a JSON object of fault settings.")
    try:
        sandbox_context().faults.configure(settings)
    except (TypeError, ValueError) as error:
        return problem(400, "Bad fault settings", str(error))
    return jsonify({"faults": sandbox_context().faults.settings()})


@control_api.delete("/faults")
def clear_faults() -> Response:
    sandbox_context().faults.clear()
    return jsonify({"faults": sandbox_context().faults.settings()})


@control_api.get("/control")
def read_controls() -> Response:
    return jsonify({"control": sandbox_context().controls.as_json()})


@control_api.post("/control")
def configure_controls() -> Response:
    settings = request.get_json(silent=True)
    if not isinstance(settings, dict):
        return problem(400, "Bad control settings", "Send a JSON object of control settings.")
    try:
        sandbox_context().controls.update(settings)
    except ValueError as error:
        return problem(400, "Bad control settings", str(error))
    return jsonify({"control": sandbox_context().controls.as_json()})


@control_api.post("/messages/deliver")
def deliver_waiting_messages() -> Response:
    return jsonify({"delivered": deliver_messages(sandbox_context())})


@control_api.get("/messaging-services")
def read_messaging_services() -> Response:
    return jsonify({"messaging_services": sandbox_context().state.services()})


@control_api.post("/messaging-services")
def create_messaging_service() -> Response:
    body = request.get_json(silent=True)
    body = {} if body is None else body
    if not isinstance(body, dict):
        return problem(400, "Bad messaging service", "Send a JSON object.")
    sid, name = body.get("sid"), body.get("friendly_name", "")
    if sid is not None and not (isinstance(sid, str) and SERVICE_SID.match(sid)):
        return problem(400, "Bad messaging service", "sid must be MG followed by 32 hex digits.")
    if not isinstance(name, str) or len(name) > 64:
        return problem(400, "Bad messaging service", "friendly_name is a string of at most 64.")
    service, created = sandbox_context().state.create_service(sid, name)
    response = jsonify({"messaging_service": service})
    response.status_code = 201 if created else 200
    return response
