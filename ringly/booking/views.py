"""API: a client's appointments."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ringly.booking import services
from ringly.booking.schemas import AppointmentSchema
from ringly.voice.records import require_client

blp = Blueprint("appointments", __name__, url_prefix="/api/clients",
                description="Appointments booked by callers")


@blp.route("/<int:client_id>/appointments")
class ClientAppointments(MethodView):
    @blp.response(200, AppointmentSchema(many=True))
    def get(self, client_id: int):
        """Every appointment of the client, soonest first (cancelled ones included)."""
        require_client(client_id)
        return services.list_appointments(client_id)
