"""API: a client's texts and voicemails."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ringly.clients.services import get_client
from ringly.messaging import services
from ringly.messaging.schemas import MessageSchema
from ringly.paging import LINK_HEADERS, PageArgsSchema, id_cursor, page

blp = Blueprint("messages", __name__, url_prefix="/api/clients",
                description="Texts in and out, and voicemails")


@blp.route("/<int:client_id>/messages")
class ClientMessages(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, MessageSchema(many=True), headers=LINK_HEADERS)
    def get(self, args, client_id: int):
        """Texts and voicemails, newest first, `limit` per page (next page: the `Link` header)."""
        get_client(client_id)
        rows = services.list_messages(client_id, args["limit"] + 1, id_cursor(args))
        return page(rows, args["limit"], lambda message: (message.id,))
