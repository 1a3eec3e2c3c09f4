"""API: a client's calls and this month's usage."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ringly.voice import records
from ringly.voice.schemas import CallSchema, UsageSchema

blp = Blueprint("calls", __name__, url_prefix="/api/clients",
                description="Calls the receptionist answered, and usage")


@blp.route("/<int:client_id>/calls")
class ClientCalls(MethodView):
    @blp.response(200, CallSchema(many=True))
    def get(self, client_id: int):
        """The client's latest calls (at most 200), newest first."""
        records.require_client(client_id)
        return records.list_calls(client_id)


@blp.route("/<int:client_id>/usage")
class ClientUsage(MethodView):
    @blp.response(200, UsageSchema)
    def get(self, client_id: int):
        """This month (in the client's time zone): calls, minutes, texts and number cost."""
        return records.usage(client_id)
