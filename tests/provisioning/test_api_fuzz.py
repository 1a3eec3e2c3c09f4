"""The API does what its OpenAPI document says: Schemathesis's examples, fuzzing (valid and
invalid data) and stateful phases, with every check, find nothing. Valid data is accepted, data
the document forbids is refused, no input is a server error, every answer matches the document.

The run is the one `st run` makes from the repository root (schemathesis.toml, with the rules of
tests/api_fuzz_rules.py that OpenAPI 3.0 cannot state), against this session's app; its coverage
phase (thousands of boundary cases, minutes) is left to `st run` (docs/api.md).
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events

# On the embedded SQLite default too: there an id beyond what a column holds used to be a 500.
pytestmark = pytest.mark.smoke

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = 15


def test_the_api_keeps_to_its_document_under_every_check(app, prov, live_server, api_headers,
                                                         monkeypatch):
    for group in ("PROVISION", "SEARCH", "READ", "WRITE"):  # a 429 would hide what is tested
        monkeypatch.setitem(app.config, f"RATE_LIMIT_{group}", "100000/minute")
    # Over HTTP, as `st run` does (Schemathesis's engine cannot drive a WSGI app in process).
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/openapi.json",
                                           config=run_config(api_headers))
    # `Prefer: wait` would hold a provision request for a job no worker runs here.
    hook = schemathesis.hook("before_call")(without_wait)
    try:
        tested, failures, errors = run(schema)
    finally:
        schemathesis.hooks.unregister(hook)

    assert len(tested) >= 15, tested
    assert not errors, errors
    assert not failures, "\n\n".join(failures)


def run_config(api_headers: dict[str, str]) -> SchemathesisConfig:
    """schemathesis.toml, bounded to run in seconds, with this test's key."""
    settings = tomllib.loads((ROOT / "schemathesis.toml").read_text())
    # The response-time budget is the one check left out: the suite asserts no timings.
    settings["checks"] = {name: value for name, value in settings.get("checks", {}).items()
                          if name != "max_response_time"}
    settings.update(seed=1, headers=api_headers,
                    generation={"max-examples": MAX_EXAMPLES, "database": "none"},
                    phases={"coverage": {"enabled": False}, "stateful": {"max-steps": 6}})
    return SchemathesisConfig.from_dict(settings, base_dir=str(ROOT))


def without_wait(_context: Any, case: Any, _kwargs: dict[str, Any]) -> None:
    if case.headers:
        case.headers = {name: value for name, value in case.headers.items()
                        if name.lower() != "prefer"}


def run(schema: Any) -> tuple[set[str], list[str], list[str]]:
    """Run every phase: the operations tested, each failed check and each error."""
    tested: set[str] = set()
    failures: list[str] = []
    errors: list[str] = []
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            tested.add(event.recorder.label)
            failures += [describe(event.recorder, case_id, check)
                         for case_id, checks in event.recorder.checks.items()
                         for check in checks if check.status == Status.FAILURE]
        elif isinstance(event, events.NonFatalError | events.FatalError):
            errors.append(str(getattr(event, "value", None) or getattr(event, "exception", "")))
    return tested, failures, errors


def describe(recorder: Any, case_id: str, check: Any) -> str:
    case = recorder.cases[case_id].value
    answer = recorder.interactions.get(case_id)
    response = answer.response if answer else None
    return (f"{check.name} on {case.method} {case.formatted_path} query={case.query!r} "
            f"body={case.body!r}: {check.failure_info.failure.title if check.failure_info else ''}"
            f" -> {response.status_code if response else '?'} "
            f"{response.content[:300] if response else ''}")
