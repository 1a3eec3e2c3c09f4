"""What the admin routes take and answer: the caller's key, audit events and their filters."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ringly.db import MAX_ROW_ID
from ringly.paging import PageArgsSchema


class ApiKeySchema(Schema):
    name = fields.String()
    prefix = fields.String()
    scopes = fields.List(fields.String(), attribute="scope_list",
                         metadata={"description": "what the key may do: read, provision, admin"})
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)


class AuditEventArgsSchema(PageArgsSchema):
    client_id = fields.Integer(
        validate=validate.Range(min=1, max=MAX_ROW_ID),
        metadata={"description": "only events about this client"})
    kind = fields.String(
        validate=validate.Regexp(r"^[a-z_]+(\.[a-z_]+)*$", error="Not an event kind."),
        metadata={"description": "only events of this kind, e.g. `number.released`"})
    since = fields.AwareDateTime(
        data_key="from", metadata={"description": "only events at or after this moment"})
    until = fields.AwareDateTime(
        data_key="to", metadata={"description": "only events before this moment"})

    @validates_schema
    def _range(self, data: dict, **kwargs: object) -> None:
        since, until = data.get("since"), data.get("until")
        if since is not None and until is not None and until <= since:
            raise ValidationError("must be later than `from`", field_name="to")


class AuditEventSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "e.g. `number.purchased`, `api_key.revoked`"})
    message = fields.String()
    client_id = fields.Integer(allow_none=True)
    subject_type = fields.String(allow_none=True,
                                 metadata={"description": "the table of the row concerned"})
    subject_id = fields.String(allow_none=True)
    actor = fields.String(metadata={"description": "who did it: `api key NAME`, `admin EMAIL` "
                                    "(the console), `cli COMMAND`, `task NAME` (with `for api "
                                    "key NAME` or `for admin EMAIL` when a key or an admin "
                                    "caused it), `webhook PATH` or `system`"})
    api_key_id = fields.Integer(allow_none=True,
                                metadata={"description": "the API key that did it, if any"})
    admin_user_id = fields.Integer(allow_none=True, metadata={
        "description": "the console's admin who did it (or asked for the job), if any"})
    data = fields.Dict()
    created_at = fields.DateTime()
