"""The original's number routes: search, the account's numbers, a client's number and webhooks."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ringly.admin.scopes import ADMIN, PROVISION, READ, requires_scope
from ringly.paging import LINK_HEADERS, respond
from ringly.provisioning import client_numbers
from ringly.provisioning.schemas import (
    AccountNumbersArgsSchema,
    AccountNumbersSchema,
    ClientNumberSchema,
    ReleaseArgsSchema,
    ReleaseResultSchema,
    SearchNumbersResultSchema,
    SearchNumbersSchema,
    WebhooksResultSchema,
)

blp = Blueprint("numbers", __name__, url_prefix="/api/clients",
                description="Twilio numbers: for sale, on the account, and each client's")


@blp.route("/search-numbers")
class SearchNumbers(MethodView):
    # Every field has a default, so no body at all searches with the defaults.
    @blp.arguments(SearchNumbersSchema, required=False)
    @blp.response(200, SearchNumbersResultSchema)
    @requires_scope(PROVISION, rate_limit="search")
    def post(self, params):
        """Numbers for sale (one Twilio search); Twilio errors carry `twilio_code`."""
        return client_numbers.search_numbers(params)


@blp.route("/numbers/all")
class AccountNumbers(MethodView):
    @blp.arguments(AccountNumbersArgsSchema, location="query")
    @blp.response(200, AccountNumbersSchema, headers=LINK_HEADERS)
    @requires_scope(ADMIN)  # the whole Twilio account, every client's number
    def get(self, args):
        """One page of the account's numbers (in Twilio's order), each with its client or
        unassigned; the next page is at the `Link` header (or pass `next_page_token` as
        `page_token`)."""
        page = client_numbers.list_account_numbers(args)
        return respond(page, args, body=page)


@blp.route("/<int:client_id>/number")
class ClientNumber(MethodView):
    @blp.response(200, ClientNumberSchema)
    @requires_scope(READ)
    def get(self, client_id: int):
        """The client and its number's live details at Twilio."""
        return client_numbers.client_number(client_id)

    @blp.arguments(ReleaseArgsSchema, location="query")
    @blp.response(200, ReleaseResultSchema)
    @requires_scope(ADMIN)
    def delete(self, args, client_id: int):
        """Release the number (or `?quarantine_days=N`: keep it N days, then release)."""
        return client_numbers.release_client_number(client_id, args.get("quarantine_days"))


@blp.route("/<int:client_id>/number/webhooks")
class ClientNumberWebhooks(MethodView):
    @blp.response(200, WebhooksResultSchema)
    @requires_scope(ADMIN)
    def put(self, client_id: int):
        """Re-apply voice, voice fallback, SMS and status callback URLs (all POST)."""
        return client_numbers.update_client_webhooks(client_id)
