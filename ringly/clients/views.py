"""The client routes: the list, one client, and its settings."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ringly.clients import services
from ringly.clients.schemas import ClientListArgsSchema, ClientPageSchema, ClientSchema

blp = Blueprint("clients", __name__, url_prefix="/api/clients",
                description="Clients and their settings")


@blp.route("")
class Clients(MethodView):
    @blp.arguments(ClientListArgsSchema, location="query")
    @blp.response(200, ClientPageSchema)
    def get(self, filters):
        """Clients, `limit` per page; pass `next_after` as `after` for the next page."""
        return services.list_clients(filters)


@blp.route("/<int:client_id>")
class ClientResource(MethodView):
    @blp.response(200, ClientSchema)
    def get(self, client_id: int):
        """One client and its settings."""
        return services.get_client(client_id)

    @blp.arguments(ClientSchema)
    @blp.response(200, ClientSchema)
    def patch(self, changes, client_id: int):
        """Change greeting, rachel_enabled, active, time zone, business hours, forwarding."""
        return services.update_client(client_id, changes)
