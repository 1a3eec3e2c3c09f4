"""API views: the caller's own key, and the audit log."""
from __future__ import annotations

from functools import partial

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from ringly.admin import services
from ringly.admin.schemas import ApiKeySchema, AuditEventArgsSchema, AuditEventSchema
from ringly.admin.scopes import ADMIN, any_api_key, requires_scope
from ringly.paging import LINK_HEADERS, Keyset, keyset_page, respond

blp = Blueprint("admin", __name__, url_prefix="/api",
                description="The API key in use, and the audit log")

AUDIT_EVENT_PAGES = Keyset.by_id("audit-events")


@blp.route("/me")
class CurrentKey(MethodView):
    @any_api_key
    @blp.response(200, ApiKeySchema)
    def get(self):
        """The API key this request was made with, and its scopes."""
        return g.api_key


@blp.route("/audit-events")
class AuditEvents(MethodView):
    @requires_scope(ADMIN)
    @blp.arguments(AuditEventArgsSchema, location="query")
    @blp.response(200, AuditEventSchema(many=True), headers=LINK_HEADERS)
    def get(self, args):
        """Audit events newest first, `limit` per page (next page: the `Link` header): every
        purchase, release, quarantine, webhook change, settings change and key change, with
        who did it; filter by `client_id`, `kind` and [`from`, `to`)."""
        fetch = partial(services.list_audit_events, client_id=args.get("client_id"),
                        kind=args.get("kind"), since=args.get("since"), until=args.get("until"))
        return respond(keyset_page(AUDIT_EVENT_PAGES, args, fetch), args,
                       carry=("client_id", "kind", "from", "to"))
