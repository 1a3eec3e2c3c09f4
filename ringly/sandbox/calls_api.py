"""Control routes for simulated inbound calls: POST /sandbox/calls, GET /sandbox/calls/<sid>."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from ringly.sandbox.call_simulator import CallRun, CallSimulator, new_call_sid
from ringly.sandbox.context import sandbox_context
from ringly.sandbox.control import problem

calls_api = Blueprint("sandbox_calls", __name__, url_prefix="/sandbox")
INPUT_KINDS = ("digits", "speech", "silence", "record")


def _inputs_problem(inputs: Any) -> str | None:
    if not isinstance(inputs, list):
        return "inputs must be a list"
    for index, item in enumerate(inputs):
        if not isinstance(item, dict) or not any(kind in item for kind in INPUT_KINDS):
            return f"inputs[{index}] must be an object with one of {', '.join(INPUT_KINDS)}"
    return None


@calls_api.post("/calls")
def place_call() -> Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not body.get("to") or not body.get("from"):
        return problem(400, "Bad call", "Send JSON with 'to', 'from' and optional 'inputs'.")
    inputs = body.get("inputs", [])
    bad_inputs = _inputs_problem(inputs)
    if bad_inputs:
        return problem(400, "Bad call", bad_inputs)
    ctx = sandbox_context()
    number = ctx.state.number_by_phone(body["to"])
    if number is None:
        return problem(404, "Number not owned", f"{body['to']} is not owned by the sandbox account")
    run = CallRun(
        call_sid=body.get("call_sid") or new_call_sid(),
        to=body["to"],
        from_=body["from"],
        inputs=[dict(item) for item in inputs],
    )
    simulator = CallSimulator(
        account_sid=ctx.account_sid,
        auth_token=ctx.auth_token,
        number=number,
        sandbox_url=request.host_url,
    )
    try:
        simulator.run(run, max_steps=int(body.get("max_steps", 50)))
    finally:
        simulator.http.close()
    answer = run.answer()
    ctx.state.save_call(answer)
    return jsonify(answer)


@calls_api.get("/calls/<call_sid>")
def read_call(call_sid: str) -> Response:
    call = sandbox_context().state.get_call(call_sid)
    if call is None:
        return problem(404, "Unknown call", f"No simulated call {call_sid}")
    return jsonify(call)
