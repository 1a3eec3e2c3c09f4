"""API: a client's calls and this month's usage."""
from __future__ import annotations

from functools import partial

from flask.views import MethodView
from flask_smorest import Blueprint

from ringly.admin.scopes import READ, requires_scope
from ringly.clients.services import client_page
from ringly.paging import LINK_HEADERS, Keyset, respond
from ringly.voice import records
from ringly.voice.schemas import CallListArgsSchema, CallSchema, UsageSchema

blp = Blueprint("calls", __name__, url_prefix="/api/clients",
                description="Calls the receptionist answered, and usage")

CALL_PAGES = Keyset.by_id("calls")


@blp.route("/<int:client_id>/calls")
class ClientCalls(MethodView):
    @blp.arguments(CallListArgsSchema, location="query")
    @blp.response(200, CallSchema(many=True), headers=LINK_HEADERS)
    @requires_scope(READ)
    def get(self, args, client_id: int):
        """The client's calls, newest first, `limit` per page (next page: the `Link` header);
        provisioning's verification requests only with `include_verification=true`."""
        fetch = partial(records.list_calls,
                        include_verification=args.get("include_verification", False))
        return respond(client_page(client_id, CALL_PAGES, args, fetch), args,
                       carry=("include_verification",))


@blp.route("/<int:client_id>/usage")
class ClientUsage(MethodView):
    @blp.response(200, UsageSchema)
    @requires_scope(READ)
    def get(self, client_id: int):
        """This month (in the client's time zone): calls, minutes, texts and number cost."""
        return records.usage(client_id)
