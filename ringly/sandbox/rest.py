"""Twilio REST blueprint plumbing: Basic auth, fault injection hooks and paging."""

from __future__ import annotations

import hmac
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Blueprint, Response, g, request

from ringly.sandbox.context import sandbox_context
from ringly.sandbox.errors import TwilioApiError, authenticate_error, too_many_requests
from ringly.sandbox.faults import DROP_FLAG, FaultDecision

twilio_api = Blueprint("twilio_api", __name__, url_prefix="/2010-04-01")

# Blueprint endpoint -> fault operation name (the names FaultSettings.only accepts).
ENDPOINT_OPERATIONS: dict[str, str] = {}


def operation(name: str, blueprint: str = "twilio_api"):
    """Register a view under a fault operation name (decorate after ``route``)."""

    def register(view):
        ENDPOINT_OPERATIONS[f"{blueprint}.{view.__name__}"] = name
        return view

    return register


def check_basic_auth() -> None:
    """Raise 401/20003 unless Basic auth and the path's AccountSid match the sandbox account."""
    ctx = sandbox_context()
    auth = request.authorization
    path_sid = (request.view_args or {}).get("account_sid")
    ok = (
        auth is not None
        and auth.type == "basic"
        and hmac.compare_digest(auth.username or "", ctx.account_sid)
        and hmac.compare_digest(auth.password or "", ctx.auth_token)
        and (path_sid is None or path_sid == ctx.account_sid)
    )
    if not ok:
        raise authenticate_error()


def run_faults(operation_name: str | None) -> Response | None:
    """Apply latency and roll a fault for this request; returns a response to short-circuit."""
    if operation_name is None:
        return None
    ctx = sandbox_context()
    decision = ctx.faults.enter(operation_name)
    g.fault_decision = decision
    if decision.latency_s:
        time.sleep(decision.latency_s)
    if decision.fault == "429":
        response = too_many_requests().to_response()
        response.headers["Retry-After"] = f"{decision.retry_after_s:g}"
        return response
    if decision.fault == "500":
        return TwilioApiError(500, 20500, "Internal Server Error").to_response()
    if decision.fault == "503":
        return TwilioApiError(503, 20503, "Service Unavailable").to_response()
    if decision.fault == "drop":
        return drop_connection()
    return None


def finish_faults() -> None:
    decision: FaultDecision | None = g.pop("fault_decision", None)
    if decision is not None:
        sandbox_context().faults.leave(decision)


def drop_connection() -> Response:
    """Flag the request so DropConnectionMiddleware closes the socket instead of answering."""
    request.environ[DROP_FLAG] = True
    return Response(status=500)


@twilio_api.before_request
def authenticate_and_inject_faults() -> Response | None:
    operation_name = ENDPOINT_OPERATIONS.get(request.endpoint or "")
    sandbox_context().requests.count(operation_name or "other")
    check_basic_auth()
    return run_faults(operation_name)


@twilio_api.teardown_request
def release_fault_slot(_exc: BaseException | None) -> None:
    finish_faults()


@twilio_api.errorhandler(TwilioApiError)
def render_twilio_error(error: TwilioApiError) -> Response:
    return error.to_response()


def page_size_param() -> int:
    raw = request.args.get("PageSize", "50")
    try:
        size = int(raw)
    except ValueError:
        raise TwilioApiError(400, 20001, f"Invalid PageSize: {raw}") from None
    if not 1 <= size <= 1000:
        raise TwilioApiError(400, 20001, "PageSize must be between 1 and 1000")
    return size


@dataclass(frozen=True)
class PageSlice:
    """One page of records as the request's ``PageSize``, ``Page`` and ``PageToken`` ask."""

    size: int
    page: int
    chunk: list[dict]
    next_token: str | None


def page_slice(items: Sequence[dict]) -> PageSlice:
    """Slice ``items`` (each carrying an internal ``_seq``) for the request's paging params.

    ``PageToken`` is ``PT<seq>``: the page starts after the record with that sequence
    number, so pages stay consistent while records are added or removed in between.
    """
    size = page_size_param()
    try:
        page = max(0, int(request.args.get("Page", "0")))
    except ValueError:
        raise TwilioApiError(400, 20001, "Invalid Page") from None
    token = request.args.get("PageToken")
    if token:
        if not (token.startswith("PT") and token[2:].isdigit()):
            raise TwilioApiError(400, 20001, f"Invalid PageToken: {token}")
        after = int(token[2:])
        remaining = [item for item in items if item["_seq"] > after]
    else:
        remaining = list(items[page * size :])
    chunk = remaining[:size]
    next_token = f"PT{chunk[-1]['_seq']}" if len(remaining) > size else None
    return PageSlice(size, page, chunk, next_token)


def public_record(item: dict) -> dict:
    return {k: v for k, v in item.items() if k != "_seq"}


def paged_envelope(
    items: Sequence[dict], list_key: str, filters: dict[str, str]
) -> dict[str, object]:
    """Slice ``items`` into the 2010 API's paging envelope (see ``page_slice``)."""
    sliced = page_slice(items)
    size, page, chunk = sliced.size, sliced.page, sliced.chunk
    base = request.path

    def page_uri(number: int, page_token: str | None = None) -> str:
        query = {**filters, "PageSize": str(size), "Page": str(number)}
        if page_token:
            query["PageToken"] = page_token
        return f"{base}?{urlencode(query)}"

    start = page * size
    next_uri = page_uri(page + 1, sliced.next_token) if sliced.next_token else None
    return {
        "first_page_uri": page_uri(0),
        "end": start + max(len(chunk) - 1, 0),
        "previous_page_uri": page_uri(page - 1) if page > 0 else None,
        list_key: [public_record(item) for item in chunk],
        "uri": request.full_path.rstrip("?"),
        "page_size": size,
        "start": start,
        "next_page_uri": next_uri,
        "page": page,
    }


def bool_param(name: str) -> bool | None:
    raw = request.values.get(name)
    if raw is None:
        return None
    return raw.strip().lower() == "true"
