"""Clients: the searchable list, and a client's page (number health, settings, appointments,
calls with their transcripts, texts, usage and cost)."""
from __future__ import annotations

from typing import Any

from flask import Response, redirect, request, url_for
from marshmallow import ValidationError

from ringly.booking.services import list_appointments
from ringly.clients import services as client_services
from ringly.clients.schemas import TIME_ZONES, ClientListArgsSchema
from ringly.console import overview, settings_form
from ringly.console.blueprint import bp, page
from ringly.db import utcnow
from ringly.errors import InvalidInput, RinglyError
from ringly.messaging.services import list_messages
from ringly.provisioning.checks import check_client_numbers
from ringly.telephony import TelephonyError
from ringly.voice import records

PAGE_SIZE = 25


def list_args(schema: Any, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A list page's query through the API's own schema: (loaded, errors by field)."""
    try:
        return schema.load({name: value for name, value in args.items() if value != ""}), {}
    except ValidationError as error:
        return schema.load({"limit": PAGE_SIZE}), settings_form.field_errors(error.messages)


@bp.get("/clients")
def clients() -> Response:
    args, errors = list_args(ClientListArgsSchema(), {
        "q": request.args.get("q", "").strip(), "cursor": request.args.get("cursor", ""),
        "limit": str(PAGE_SIZE)})
    try:
        found = client_services.list_clients(args)
    except InvalidInput as error:  # a cursor from another list, or tampered with
        errors, found = settings_form.field_errors(error.errors), \
            client_services.list_clients({"limit": PAGE_SIZE})
    return page("clients.html", found=found, q=args.get("q", ""), errors=errors)


def _client_page(client_id: int, values: dict[str, Any] | None = None,
                 errors: dict[str, str] | None = None, status: int = 200,
                 notice: str | None = None) -> Response:
    client = client_services.get_client(client_id)
    try:
        [health] = check_client_numbers(client_id)
        health_error = None
    except TelephonyError as error:
        health, health_error = None, f"Twilio could not be asked: {error.message}"
    now = utcnow()
    calls = records.list_calls(client_id, 10)
    usage = records.usage(client_id, now)
    return page(
        "client.html", status=status, client=client, health=health, health_error=health_error,
        values=values or settings_form.form_values(client), errors=errors or {},
        notice=notice or request.args.get("notice"),
        appointments=list_appointments(client_id, 20, starts_from=now),
        calls=calls, messages=list_messages(client_id, 20), usage=usage,
        cost=overview.month_cost(usage["period_start"], client_id),
        day_names=settings_form.DAY_NAMES, rules=settings_form.RULE_LABELS,
        time_zones=TIME_ZONES)


@bp.get("/clients/<int:client_id>")
def client(client_id: int) -> Response:
    return _client_page(client_id)


@bp.post("/clients/<int:client_id>/settings")
def client_settings(client_id: int) -> Response:
    current = client_services.get_client(client_id)
    loaded, errors = settings_form.read_form(request.form)
    if not errors:
        changes = settings_form.changed(current, loaded)
        if not changes:
            return redirect(url_for("console.client", client_id=client_id, notice="unchanged"))
        try:
            client_services.update_client(client_id, changes)  # as PATCH /api/clients/<id>
        except InvalidInput as error:
            errors = settings_form.field_errors(error.errors) or {"form": error.detail}
        except RinglyError as error:
            errors = {"form": error.detail}
        else:
            return redirect(url_for("console.client", client_id=client_id, notice="saved"))
    return _client_page(client_id, values=dict(request.form), errors=errors, status=422)
