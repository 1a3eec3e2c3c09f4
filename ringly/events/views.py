"""API: event endpoints (admin), the events recorded, and each endpoint's deliveries."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ringly.admin.scopes import ADMIN, READ, requires_scope
from ringly.events import services
from ringly.events.schemas import (
    CreatedEndpointSchema,
    DeliveryListArgsSchema,
    DeliverySchema,
    EndpointCreateSchema,
    EndpointSchema,
    EventListArgsSchema,
    EventSchema,
)
from ringly.paging import LINK_HEADERS, PageArgsSchema, respond

blp = Blueprint("events", __name__, url_prefix="/api",
                description="Events sent to the product that embeds Ringly, signed, with retries")


@blp.route("/event-endpoints")
class EventEndpoints(MethodView):
    @blp.arguments(EndpointCreateSchema)
    @blp.response(201, CreatedEndpointSchema)
    @requires_scope(ADMIN)
    def post(self, body):
        """Start sending events of the listed types to a URL. The answer shows the endpoint's
        signing secret, once: no later answer does."""
        return services.create_endpoint(body)

    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, EndpointSchema(many=True), headers=LINK_HEADERS)
    @requires_scope(ADMIN)
    def get(self, args):
        """Event endpoints newest first, `limit` per page (next page: the `Link` header)."""
        return respond(services.list_endpoints(args), args)


@blp.route("/event-endpoints/<int:endpoint_id>")
class EventEndpointResource(MethodView):
    @blp.response(200, EndpointSchema)
    @requires_scope(ADMIN)
    def get(self, endpoint_id: int):
        """One event endpoint (never its secret)."""
        return services.get_endpoint(endpoint_id)

    @blp.response(204)
    @requires_scope(ADMIN)
    def delete(self, endpoint_id: int):
        """Stop sending events to this endpoint; deliveries not yet made are cancelled."""
        services.delete_endpoint(endpoint_id)


@blp.route("/event-endpoints/<int:endpoint_id>/deliveries")
class EventEndpointDeliveries(MethodView):
    @blp.arguments(DeliveryListArgsSchema, location="query")
    @blp.response(200, DeliverySchema(many=True), headers=LINK_HEADERS)
    @requires_scope(ADMIN)
    def get(self, args, endpoint_id: int):
        """The endpoint's deliveries newest first: the event sent, the endpoint's last answer
        (status and the start of its body), attempts and the next attempt."""
        return respond(services.list_deliveries(endpoint_id, args), args, carry=("status",))


@blp.route("/events")
class Events(MethodView):
    @blp.arguments(EventListArgsSchema, location="query")
    @blp.response(200, EventSchema(many=True), headers=LINK_HEADERS)
    @requires_scope(READ)
    def get(self, args):
        """Events newest first, with each endpoint's delivery of it; filter by `type` and
        `client_id`."""
        return respond(services.list_events(args), args, carry=("type", "client_id"))
