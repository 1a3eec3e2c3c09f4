"""The client routes: the list, one client, and its settings."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ringly.admin.scopes import ADMIN, READ, requires_scope
from ringly.clients import services
from ringly.clients.schemas import (
    CLIENT_FILTERS,
    ClientListArgsSchema,
    ClientPageSchema,
    ClientSchema,
)
from ringly.paging import LINK_HEADERS, respond

blp = Blueprint("clients", __name__, url_prefix="/api/clients",
                description="Clients and their settings")


@blp.route("")
class Clients(MethodView):
    @blp.arguments(ClientListArgsSchema, location="query")
    @blp.response(200, ClientPageSchema, headers=LINK_HEADERS)
    @requires_scope(READ)
    def get(self, filters):
        """Clients newest first (by id), `limit` per page; the next page is at the `Link` header
        (or pass `next_after` as `after`)."""
        page = services.list_clients(filters)
        return respond(page, filters, carry=CLIENT_FILTERS, body=page)


@blp.route("/<int:client_id>")
class ClientResource(MethodView):
    @blp.response(200, ClientSchema)
    @requires_scope(READ)
    def get(self, client_id: int):
        """One client and its settings."""
        return services.get_client(client_id)

    @blp.arguments(ClientSchema)
    @blp.response(200, ClientSchema)
    @requires_scope(ADMIN)  # forwarding_number decides where calls go
    def patch(self, changes, client_id: int):
        """Change greeting, rachel_enabled, active, time zone, business hours, forwarding."""
        return services.update_client(client_id, changes)
