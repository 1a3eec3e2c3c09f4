"""The original client routes: search numbers, a client's number, webhooks, release, settings."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ringly.clients import services
from ringly.clients.schemas import (
    AccountNumbersArgsSchema,
    AccountNumbersSchema,
    ClientListArgsSchema,
    ClientNumberSchema,
    ClientPageSchema,
    ClientSchema,
    ReleaseArgsSchema,
    ReleaseResultSchema,
    SearchNumbersResultSchema,
    SearchNumbersSchema,
    WebhooksResultSchema,
)

blp = Blueprint("clients", __name__, url_prefix="/api/clients",
                description="Clients and their Twilio numbers")


@blp.route("/search-numbers")
class SearchNumbers(MethodView):
    # Every field has a default, so no body at all searches with the defaults.
    @blp.arguments(SearchNumbersSchema, required=False)
    @blp.response(200, SearchNumbersResultSchema)
    def post(self, params):
        """Numbers for sale (one Twilio search); Twilio errors carry `twilio_code`."""
        return services.search_numbers(params)


@blp.route("/numbers/all")
class AccountNumbers(MethodView):
    @blp.arguments(AccountNumbersArgsSchema, location="query")
    @blp.response(200, AccountNumbersSchema)
    def get(self, args):
        """One page of the account's numbers, each with its client or unassigned."""
        return services.list_account_numbers(args["page_size"], args.get("page_token"))


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


@blp.route("/<int:client_id>/number")
class ClientNumber(MethodView):
    @blp.response(200, ClientNumberSchema)
    def get(self, client_id: int):
        """The client and its number's live details at Twilio."""
        return services.client_number(client_id)

    @blp.arguments(ReleaseArgsSchema, location="query")
    @blp.response(200, ReleaseResultSchema)
    def delete(self, args, client_id: int):
        """Release the number (or `?quarantine_days=N`: keep it N days, then release)."""
        return services.release_client_number(client_id, args.get("quarantine_days"))


@blp.route("/<int:client_id>/number/webhooks")
class ClientNumberWebhooks(MethodView):
    @blp.response(200, WebhooksResultSchema)
    def put(self, client_id: int):
        """Re-apply voice, voice fallback, SMS and status callback URLs (all POST)."""
        return services.update_client_webhooks(client_id)
