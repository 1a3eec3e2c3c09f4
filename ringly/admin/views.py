"""API views for the caller's own key."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

blp = Blueprint("admin", __name__, url_prefix="/api", description="The API key in use")


class ApiKeySchema(Schema):
    name = fields.String()
    prefix = fields.String()
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)


@blp.route("/me")
class CurrentKey(MethodView):
    @blp.response(200, ApiKeySchema)
    def get(self):
        """The API key this request was made with."""
        return g.api_key
