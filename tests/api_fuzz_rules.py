"""What Ringly's API enforces that an OpenAPI 3.0 document cannot state, taught to Schemathesis.

The document states every rule it can (patterns, enums, lengths, ranges, formats). These are the
rest: each is in the document's words (the parameter's or field's description) and enforced with
a 422, but no JSON Schema keyword can say it, so Schemathesis would take a request that breaks
one for valid data and report the 422 as a rejected positive case. Only positive cases are
changed, and only to keep the rule; negative cases go out as generated.

`schemathesis.toml` names this module, so `st run` from the repository root loads it;
tests/provisioning/test_api_fuzz.py loads the same file.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import schemathesis
from schemathesis import GenerationMode

# Opaque tokens the API gave out, per operation: a cursor (`X-Next-Cursor`) or a page token
# (`next_page_token`) is signed or checked by the server, so only one it gave out is valid.
GIVEN_OUT: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
# Of each pair, the first wins: the second names the same thing in the original API's words,
# and the server refuses both at once.
EXCLUSIVE = (("cursor", "after"), ("cursor", "page_token"), ("limit", "page_size"))
# Time filters [start, end): the end must be later than the start (else 422).
RANGES = (("from", "to"), ("created_from", "created_to"))


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    """Keep the cursors and page tokens the API gives out, for the positive cases that follow."""
    if response.status_code != 200:
        return
    given = GIVEN_OUT[case.operation.label]
    for cursor in response.headers.get("x-next-cursor", []):
        given["cursor"].append(cursor)
    try:
        body = response.json()
    except ValueError:
        return
    if isinstance(body, dict) and isinstance(body.get("next_page_token"), str):
        given["page_token"].append(body["next_page_token"])


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """A positive case, as it is about to be sent (after any stateful link filled a value in),
    kept within the rules the document states only in words."""
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return
    if isinstance(case.query, dict):
        case.query = _query(case.operation.label, dict(case.query))
    if case.operation.label == "PATCH /api/clients/{client_id}" and isinstance(case.body, dict):
        case.body = _client_settings(dict(case.body))


def _query(operation: str, query: dict[str, Any]) -> dict[str, Any]:
    # A made-up token (or one from another list) is refused (422) by design: send one this
    # operation gave out, or none.
    for name in ("cursor", "page_token"):
        given = GIVEN_OUT[operation][name]
        if name in query and query[name] not in given:
            if given:
                query[name] = given[len(str(query[name])) % len(given)]
            else:
                del query[name]
    for kept, dropped in EXCLUSIVE:
        if kept in query:
            query.pop(dropped, None)
    # Swap an inverted range, drop the end of an empty one.
    for start, end in RANGES:
        since, until = _moment(query.get(start)), _moment(query.get(end))
        if since is not None and until is not None and _not_after(until, since):
            if until == since:
                del query[end]
            else:
                query[start], query[end] = query[end], query[start]
    return query


def _client_settings(body: dict[str, Any]) -> dict[str, Any]:
    # Each span of business hours opens before it closes.
    hours = body.get("business_hours")
    if isinstance(hours, dict):
        body["business_hours"] = {
            day: [sorted(span) for span in spans if len(set(span)) == len(span)]
            if isinstance(spans, list) else spans
            for day, spans in hours.items()}
    # A range of closed dates does not end before it starts (ISO dates compare as strings).
    closed = body.get("closed_dates")
    if isinstance(closed, list):
        body["closed_dates"] = [
            {**span, "from": min(span["from"], span["to"]), "to": max(span["from"], span["to"])}
            if isinstance(span, dict) and isinstance(span.get("from"), str)
            and isinstance(span.get("to"), str) else span
            for span in closed]
    # The dialling policy refuses a forwarding number by its country (the client's, unless
    # ALLOWED_DESTINATION_COUNTRIES says otherwise) and its type (fixed-line or mobile only):
    # phonenumbers' metadata, not a pattern. tests/clients/test_forwarding_policy.py covers it.
    if body.get("forwarding_number") is not None:
        body["forwarding_number"] = None
    return body


def _not_after(until: datetime, since: datetime) -> bool:
    try:
        return until <= since
    except TypeError:  # one without a zone: the server refuses it anyway
        return False


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value is not None else None
    except ValueError:
        return None
