"""API: a client's calls and this month's usage."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ringly.admin.scopes import READ, requires_scope
from ringly.clients.services import client_page
from ringly.paging import LINK_HEADERS, Keyset, PageArgsSchema, respond
from ringly.voice import records
from ringly.voice.schemas import CallSchema, UsageSchema

blp = Blueprint("calls", __name__, url_prefix="/api/clients",
                description="Calls the receptionist answered, and usage")

CALL_PAGES = Keyset.by_id("calls")


@blp.route("/<int:client_id>/calls")
class ClientCalls(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, CallSchema(many=True), headers=LINK_HEADERS)
    @requires_scope(READ)
    def get(self, args, client_id: int):
        """The client's calls, newest first, `limit` per page (next page: the `Link` header)."""
        return respond(client_page(client_id, CALL_PAGES, args, records.list_calls), args)


@blp.route("/<int:client_id>/usage")
class ClientUsage(MethodView):
    @blp.response(200, UsageSchema)
    @requires_scope(READ)
    def get(self, client_id: int):
        """This month (in the client's time zone): calls, minutes, texts and number cost."""
        return records.usage(client_id)
