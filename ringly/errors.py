"""Domain errors and the one handler that turns every error into application/problem+json."""
from __future__ import annotations

import http
import logging
import re
from typing import Any

import kombu.exceptions
import redis.exceptions
import sqlalchemy.exc
from flask import Flask, Response, abort, current_app, json, request
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow import INCLUDE, Schema, fields
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

PROBLEM_MIMETYPE = "application/problem+json"
# How long a caller is asked to wait when the database or the broker is down: a restart or a
# fail-over takes seconds, and a client retrying at once only adds to the queue of reconnects.
DEPENDENCY_RETRY_AFTER_S = 5
# "Cannot reach it" errors of the database, the broker and Ringly's Redis. OperationalError
# also covers a deadlock or a cancelled statement, as transient: retrying is the right advice.
DATABASE_ERRORS = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.DisconnectionError)
BROKER_ERRORS = (kombu.exceptions.OperationalError, redis.exceptions.ConnectionError,
                 redis.exceptions.TimeoutError)
# C0 and C1 control characters: no route of Ringly's has one in its path.
_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")


class RinglyError(Exception):
    """Base of every error a service raises on purpose; it says nothing about HTTP."""

    kind = "error"
    title = "Request failed"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(RinglyError):
    kind, title = "not-found", "Not found"


class Conflict(RinglyError):
    kind, title = "conflict", "Conflict"


class InvalidInput(RinglyError):
    kind, title = "invalid-input", "Invalid input"

    def __init__(self, detail: str, errors: dict[str, Any] | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.errors = errors or {}


class Unauthorized(RinglyError):
    kind, title = "unauthorized", "Unauthorized"


class Forbidden(RinglyError):
    """The caller is known but may not do this (e.g. its API key lacks a scope)."""

    kind, title = "forbidden", "Forbidden"


class LimitExceeded(RinglyError):
    kind, title = "limit-exceeded", "Limit exceeded"


class UpstreamUnavailable(RinglyError):
    kind, title = "upstream-unavailable", "Upstream service unavailable"


STATUS_BY_ERROR: dict[type[RinglyError], int] = {
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
    Unauthorized: 401,
    Forbidden: 403,
    LimitExceeded: 429,
    UpstreamUnavailable: 503,
}


def problem_type(kind: str) -> str:
    return f"urn:ringly:problem:{kind}"


def problem_response(
    status: int, title: str, detail: str, kind: str, **members: Any
) -> Response:
    """Build an RFC 9457 problem response; extra members sit beside the standard ones."""
    body = {"type": problem_type(kind), "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in members.items() if v is not None})
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="ringly"'
    return response


def status_for(error: RinglyError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def handle_ringly_error(error: RinglyError) -> Response:
    members = dict(error.extra)
    if isinstance(error, InvalidInput) and error.errors:
        members["errors"] = error.errors
    status = status_for(error)
    response = problem_response(status, error.title, error.detail, error.kind, **members)
    retry_after = error.extra.get("retry_after")
    if retry_after is not None:
        response.headers["Retry-After"] = str(int(retry_after))
    return response


def handle_dependency_unavailable(error: Exception) -> Response:
    """The database, the broker or Redis is down (a restart, a fail-over): a 503 problem with
    Retry-After, which a caller can act on, instead of a 500 that reads as a bug in Ringly."""
    dependency = ("database" if isinstance(error, DATABASE_ERRORS) else
                  "broker" if isinstance(error, kombu.exceptions.OperationalError) else "redis")
    # One line, not a traceback per request: during an outage every request lands here.
    log.warning("%s unavailable during %s %s: %s", dependency, request.method, request.path,
                str(error).splitlines()[0] if str(error) else type(error).__name__)
    response = problem_response(
        503, "Service Unavailable",
        f"Ringly cannot reach its {dependency} right now; retry after {DEPENDENCY_RETRY_AFTER_S}"
        " seconds.", "dependency-unavailable", dependency=dependency)
    response.headers["Retry-After"] = str(DEPENDENCY_RETRY_AFTER_S)
    return response


def _kind_for_http(error: HTTPException) -> str:
    if error.code == 422:
        return "invalid-input"
    return (error.name or "error").lower().replace(" ", "-")


class ProblemSchema(Schema):
    """The one error body (RFC 9457), as the OpenAPI document describes it."""

    class Meta:
        unknown = INCLUDE  # extension members, such as `twilio_code`, stand beside these

    type = fields.String(metadata={"example": "urn:ringly:problem:invalid-input"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(metadata={"description": "invalid input: each field and its messages"})
    twilio_code = fields.Integer(metadata={"description": "Twilio's error code, when Twilio "
                                           "caused the problem"})


class RinglyApi(Api):
    """flask-smorest's Api with its error bodies replaced by problem+json, in the responses and
    in the OpenAPI document alike."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        # As flask-smorest registers them, but served as application/problem+json.
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_MIMETYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "A problem (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MIMETYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)

    def handle_http_exception(self, error: HTTPException) -> Response:  # type: ignore[override]
        if isinstance(error, InternalServerError) and error.original_exception is not None:
            log.exception("unhandled error", exc_info=error.original_exception)
        data: dict[str, Any] = getattr(error, "data", None) or {}
        members: dict[str, Any] = {}
        detail = data.get("message") or error.description or error.name
        if "messages" in data:
            # webargs nests errors by location ("json", "query", "headers"); callers want fields.
            messages = data["messages"]
            errors = (
                next(iter(messages.values())) if isinstance(messages, dict) and len(messages) == 1
                else messages
            )
            if isinstance(errors, dict):
                members["errors"] = errors
                detail = "The request has invalid fields; see errors."
            else:  # not about a field: e.g. a body that is not JSON at all
                detail = " ".join(str(message) for message in errors)
        code = error.code or 500
        response = problem_response(code, error.name, str(detail), _kind_for_http(error), **members)
        for name, value in (data.get("headers") or {}).items():
            response.headers[name] = value
        if code == 405 and error.get_response().headers.get("Allow"):
            response.headers["Allow"] = error.get_response().headers["Allow"]
        return response


def refuse_control_characters_in_path() -> None:
    """A path with a control character (`/api/provisioning-jobs/%00`) names nothing: a 404
    problem before any other hook, view or the database sees it (a NUL made PostgreSQL fail)."""
    if _CONTROL_CHARACTERS.search(request.path):
        abort(404)


def _declared_json_body(endpoint: str, method: str) -> dict[str, Any] | None:
    """The JSON body an API operation declares with `@blp.arguments` (flask-smorest keeps it in
    the view method's `_apidoc`, which the OpenAPI document is written from), if any."""
    view_class = getattr(current_app.view_functions.get(endpoint), "view_class", None)
    apidoc = getattr(getattr(view_class, method.lower(), None), "_apidoc", {})
    parameters = apidoc.get("arguments", {}).get("parameters", [])
    return next((parameter for parameter in parameters if parameter["in"] == "json"), None)


def refuse_missing_json_body() -> None:
    """An operation that takes a JSON body, sent a body that is not JSON, is a 415 problem; one
    whose document says the body is required, sent none, is a 422 problem. webargs reads either
    as `{}`, so a PATCH without a body changed nothing and answered 200."""
    if request.endpoint is None or not request.path.startswith("/api/"):
        return
    body = _declared_json_body(request.endpoint, request.method)
    if body is None:
        return
    if not request.get_data(cache=True).strip():
        if body.get("required"):
            raise InvalidInput("This operation needs a JSON body.",
                               errors={"body": ["A JSON body is required."]})
    elif not request.is_json:
        abort(415, description="The body must be JSON, sent as Content-Type: application/json.")


def init_app(app: Flask) -> None:
    app.register_error_handler(RinglyError, handle_ringly_error)
    for dependency_error in (*DATABASE_ERRORS, *BROKER_ERRORS):
        app.register_error_handler(dependency_error, handle_dependency_unavailable)
    # First of all before-request hooks, so authentication and rate limits never see it either.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_control_characters_in_path)
    # After authentication: a caller without a key learns nothing about the operation's body.
    app.before_request(refuse_missing_json_body)
