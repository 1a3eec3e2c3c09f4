"""API: a client's appointments."""
from __future__ import annotations

from datetime import datetime
from functools import partial

from flask.views import MethodView
from flask_smorest import Blueprint

from ringly.admin.scopes import READ, requires_scope
from ringly.booking import services
from ringly.booking.schemas import AppointmentListArgsSchema, AppointmentSchema
from ringly.clients.services import client_page
from ringly.paging import LINK_HEADERS, Keyset, respond, row_id

blp = Blueprint("appointments", __name__, url_prefix="/api/clients",
                description="Appointments booked by callers")


def _aware(value: str) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError("naive")
    return moment


# Soonest first, not newest first: the documented exception (a calendar is read forwards).
APPOINTMENT_PAGES = Keyset(
    "appointments", lambda appointment: (appointment.starts_at.isoformat(), appointment.id),
    (_aware, row_id))


@blp.route("/<int:client_id>/appointments")
class ClientAppointments(MethodView):
    @blp.arguments(AppointmentListArgsSchema, location="query")
    @blp.response(200, AppointmentSchema(many=True), headers=LINK_HEADERS)
    @requires_scope(READ)
    def get(self, args, client_id: int):
        """Appointments soonest first (cancelled ones included), `limit` per page (next page:
        the `Link` header); `from` and `to` keep those starting in [from, to)."""
        fetch = partial(services.list_appointments, starts_from=args.get("starts_from"),
                        starts_before=args.get("starts_before"))
        return respond(client_page(client_id, APPOINTMENT_PAGES, args, fetch), args,
                       carry=("from", "to"))
