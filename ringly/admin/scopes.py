"""API key scopes: each /api operation declares the one it needs, next to its view.

`@requires_scope("admin")` on a MethodView method records the scope (and the operation's rate
limit group) on the function and in the OpenAPI document; `access_for_request` reads it back
for the request being served. An operation that declares nothing is refused to every key
(see ringly/admin/auth.py), so a new route cannot slip through unguarded.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from copy import deepcopy
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, current_app, request
from flask_smorest.utils import deepupdate

from ringly.errors import InvalidInput

READ, PROVISION, ADMIN = "read", "provision", "admin"
SCOPES = (READ, PROVISION, ADMIN)
DEFAULT_SCOPES = (PROVISION, READ)

# Rate-limit groups (ringly/admin/limits.py); each has a RATE_LIMIT_<GROUP> setting.
RATE_LIMIT_GROUPS = ("provision", "search", "read", "write")

ACCESS_ATTRIBUTE = "ringly_access"
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Access:
    """What an operation needs: a scope (None: any valid key) and its rate-limit group."""

    scope: str | None
    rate_limit: str


def normalise_scopes(scopes: Iterable[str]) -> str:
    """Scopes as stored: known names, sorted, space-separated; an unknown name is invalid."""
    names = {scope.strip().lower() for scope in scopes if scope.strip()}
    unknown = sorted(names - set(SCOPES))
    if unknown or not names:
        raise InvalidInput(
            f"scopes must be some of {', '.join(SCOPES)}; got {', '.join(unknown) or 'none'}",
            errors={"scopes": [f"one or more of {', '.join(SCOPES)}"]},
        )
    return " ".join(sorted(names))


def _declare(func: F, access: Access, extensions: dict[str, Any], sentence: str) -> F:
    if access.rate_limit not in RATE_LIMIT_GROUPS:
        raise ValueError(f"unknown rate limit group {access.rate_limit!r}")
    setattr(func, ACCESS_ATTRIBUTE, access)
    # As flask-smorest's Blueprint.doc stores manual documentation, without a wrapper.
    apidoc = deepcopy(getattr(func, "_apidoc", {}))
    apidoc["manual_doc"] = deepupdate(deepcopy(apidoc.get("manual_doc", {})), {
        **extensions,
        "x-rate-limit-group": access.rate_limit,
        "responses": {"401": "UNAUTHORIZED", "403": "FORBIDDEN",
                      "429": "TOO_MANY_REQUESTS"},
    })
    func._apidoc = apidoc  # type: ignore[attr-defined]
    # flask-smorest takes the operation's description from the docstring when the route is
    # registered, which happens after the method decorators ran.
    func.__doc__ = f"{inspect.cleandoc(func.__doc__ or '')}\n\n{sentence}".strip()
    return func


def _default_group(func: Callable[..., Any]) -> str:
    # MethodView methods are named after their HTTP method.
    return "read" if func.__name__ in ("get", "head") else "write"


def requires_scope(scope: str, *, rate_limit: str | None = None) -> Callable[[F], F]:
    """Declare that an API operation needs `scope`; `rate_limit` names its limit group
    (default: `read` for GET, `write` for other methods)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def decorator(func: F) -> F:
        access = Access(scope, rate_limit or _default_group(func))
        return _declare(func, access, {"x-required-scope": scope},
                        f"Needs an API key with the `{scope}` scope.")

    return decorator


def any_api_key(func: F) -> F:
    """Declare that an API operation is open to every valid key, whatever its scopes."""
    return _declare(func, Access(None, _default_group(func)), {"x-required-scope": None},
                    "Open to any valid API key, whatever its scopes.")


def declared_access(app: Flask, endpoint: str, method: str) -> Access | None:
    """The access an endpoint's view declares for `method`, None when it declares none."""
    view = app.view_functions.get(endpoint)
    if view is None:
        return None
    view_class = getattr(view, "view_class", None)
    handler: Any = view
    if view_class is not None:
        handler = getattr(view_class, method.lower(), None)
        if handler is None and method.upper() == "HEAD":
            handler = getattr(view_class, "get", None)
    return getattr(handler, ACCESS_ATTRIBUTE, None)


def access_for_request() -> Access | None:
    if request.endpoint is None:
        return None
    return declared_access(current_app, request.endpoint, request.method)
