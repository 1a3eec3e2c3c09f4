"""The console's blueprint: its templates and assets, sign-in and CSRF checks, page helpers."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template

from ringly.console import formatting, security
from ringly.errors import RinglyError, status_for

bp = Blueprint("console", __name__, url_prefix="/admin", template_folder="templates",
               static_folder="static", static_url_path="/static")
bp.before_request(security.load_admin)
bp.after_request(security.finish_response)
bp.teardown_request(security.forget_admin)

NAVIGATION = (
    ("console.dashboard", "Dashboard"),
    ("console.clients", "Clients"),
    ("console.provision", "Provision"),
    ("console.numbers", "Numbers"),
    ("console.jobs", "Jobs"),
    ("console.audit", "Audit log"),
    ("console.events_page", "Events"),
)


@bp.app_context_processor
def _console_globals() -> dict[str, Any]:
    return {"csrf_token": security.csrf_token, "csrf_field": security.CSRF_FIELD,
            "navigation": NAVIGATION}


for _name, _filter in formatting.FILTERS.items():
    bp.add_app_template_filter(_filter, _name)


def page(template: str, status: int = 200, **context: Any) -> Response:
    """A console page; `status` other than 200 for a form sent back with its errors."""
    return Response(render_template(f"console/{template}", **context), status=status)


@bp.errorhandler(RinglyError)
def _refused(error: RinglyError) -> Response:
    """A service's refusal, on a page (the API answers the same error as a problem)."""
    response = page("error.html", status=status_for(error), title=error.title,
                    detail=error.detail)
    if error.extra.get("retry_after") is not None:
        response.headers["Retry-After"] = str(int(error.extra["retry_after"]))
    return response
