"""API: a client's appointments."""
from __future__ import annotations

from datetime import datetime

from flask.views import MethodView
from flask_smorest import Blueprint

from ringly.booking import services
from ringly.booking.schemas import AppointmentListArgsSchema, AppointmentSchema
from ringly.clients.services import get_client
from ringly.paging import LINK_HEADERS, decode_cursor, page, row_id

blp = Blueprint("appointments", __name__, url_prefix="/api/clients",
                description="Appointments booked by callers")


@blp.route("/<int:client_id>/appointments")
class ClientAppointments(MethodView):
    @blp.arguments(AppointmentListArgsSchema, location="query")
    @blp.response(200, AppointmentSchema(many=True), headers=LINK_HEADERS)
    def get(self, args, client_id: int):
        """Appointments soonest first (cancelled ones included), `limit` per page (next page:
        the `Link` header); `from` and `to` keep those starting in [from, to)."""
        get_client(client_id)
        after = decode_cursor(args["cursor"], _aware, row_id) if args.get("cursor") else None
        rows = services.list_appointments(client_id, args["limit"] + 1, after,
                                          args.get("starts_from"), args.get("starts_before"))
        return page(rows, args["limit"],
                    lambda appointment: (appointment.starts_at.isoformat(), appointment.id),
                    carry=("from", "to"))


def _aware(value: str) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError("naive")
    return moment
