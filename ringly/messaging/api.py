"""API: a client's texts and voicemails."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ringly.admin.scopes import READ, requires_scope
from ringly.clients.services import client_page
from ringly.messaging import services
from ringly.messaging.schemas import MessageSchema
from ringly.paging import LINK_HEADERS, Keyset, PageArgsSchema, respond

blp = Blueprint("messages", __name__, url_prefix="/api/clients",
                description="Texts in and out, and voicemails")

MESSAGE_PAGES = Keyset.by_id("messages")


@blp.route("/<int:client_id>/messages")
class ClientMessages(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, MessageSchema(many=True), headers=LINK_HEADERS)
    @requires_scope(READ)
    def get(self, args, client_id: int):
        """Texts and voicemails, newest first, `limit` per page (next page: the `Link` header)."""
        return respond(client_page(client_id, MESSAGE_PAGES, args, services.list_messages), args)
