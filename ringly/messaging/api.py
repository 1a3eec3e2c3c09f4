"""API: a client's texts and voicemails."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ringly.messaging import services
from ringly.messaging.schemas import MessageSchema
from ringly.voice.records import require_client

blp = Blueprint("messages", __name__, url_prefix="/api/clients",
                description="Texts in and out, and voicemails")


@blp.route("/<int:client_id>/messages")
class ClientMessages(MethodView):
    @blp.response(200, MessageSchema(many=True))
    def get(self, client_id: int):
        """The client's latest texts and voicemails (at most 200), newest first."""
        require_client(client_id)
        return services.list_messages(client_id)
