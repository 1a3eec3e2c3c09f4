"""What happened: provisioning jobs, the audit log, and events with their deliveries; each a list
paged and filtered as its API route pages and filters it."""
from __future__ import annotations

from functools import partial

from flask import Response, request

from ringly.admin.schemas import AuditEventArgsSchema
from ringly.admin.services import list_audit_events
from ringly.console.blueprint import bp, page
from ringly.console.clients import PAGE_SIZE, list_args
from ringly.errors import InvalidInput
from ringly.events import services as events
from ringly.events.models import DELIVERY_STATUSES
from ringly.events.schemas import DeliveryListArgsSchema, EventListArgsSchema
from ringly.events.services import EVENT_TYPES
from ringly.paging import Keyset, Page, keyset_page
from ringly.provisioning import services as provisioning
from ringly.provisioning.schemas import JobListArgsSchema
from ringly.provisioning.states import JobState

AUDIT_PAGES = Keyset.by_id("audit-events")


def _query(*names: str) -> dict[str, str]:
    values = {name: request.args.get(name, "").strip() for name in (*names, "cursor")}
    values["limit"] = str(PAGE_SIZE)
    return values


def _listed(schema: object, names: tuple[str, ...], fetch) -> tuple[Page, dict, dict]:
    """Load the query with the API's schema, fetch the page; a bad filter or cursor is shown
    next to its field and the unfiltered first page is listed instead."""
    args, errors = list_args(schema, _query(*names))
    try:
        return fetch(args), args, errors
    except InvalidInput as error:
        args = {"limit": PAGE_SIZE}
        return fetch(args), args, {**errors, "cursor": error.detail}


@bp.get("/jobs")
def jobs() -> Response:
    found, args, errors = _listed(JobListArgsSchema(), ("status", "client_id"),
                                  provisioning.list_jobs)
    return page("jobs.html", found=found, args=args, errors=errors,
                states=[state.value for state in JobState])


def _audit(args: dict) -> Page:
    fetch = partial(list_audit_events, client_id=args.get("client_id"), kind=args.get("kind"),
                    since=args.get("since"), until=args.get("until"))
    return keyset_page(AUDIT_PAGES, args, fetch)


@bp.get("/audit")
def audit() -> Response:
    found, args, errors = _listed(AuditEventArgsSchema(), ("client_id", "kind"), _audit)
    return page("audit.html", found=found, args=args, errors=errors)


@bp.get("/events")
def events_page() -> Response:
    found, args, errors = _listed(EventListArgsSchema(), ("type", "client_id"),
                                  events.list_events)
    endpoints = events.list_endpoints({"limit": 100})
    return page("events.html", found=found, args=args, errors=errors,
                endpoints=endpoints.rows, types=EVENT_TYPES)


@bp.get("/events/endpoints/<int:endpoint_id>")
def endpoint_deliveries(endpoint_id: int) -> Response:
    endpoint = events.get_endpoint(endpoint_id)
    found, args, errors = _listed(DeliveryListArgsSchema(), ("status",),
                                  partial(events.list_deliveries, endpoint_id))
    return page("deliveries.html", endpoint=endpoint, found=found, args=args, errors=errors,
                statuses=DELIVERY_STATUSES)
