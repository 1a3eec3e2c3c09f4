"""Clients: one by id, the list, and their settings."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ringly.admin.services import record_event
from ringly.clients.models import Client
from ringly.db import db
from ringly.errors import NotFound
from ringly.signals import client_wording_changed


def get_client(client_id: int) -> Client:
    client = db.session.get(Client, client_id)
    if client is None:
        raise NotFound(f"no client {client_id}")
    return client


def client_by_number(phone_number: str | None) -> Client | None:
    """The client whose Ringly number this is (a webhook's `To`), if any."""
    if not phone_number:
        return None
    return db.session.scalar(sa.select(Client).where(Client.ringlypro_number == phone_number))


def list_clients(filters: dict[str, Any]) -> dict[str, Any]:
    """Clients by id, `limit` per page after the `after` id, filtered."""
    query = sa.select(Client).order_by(Client.id).limit(filters["limit"] + 1)
    if filters.get("after"):
        query = query.where(Client.id > filters["after"])
    for name in ("active", "rachel_enabled", "user_id"):
        if filters.get(name) is not None:
            query = query.where(getattr(Client, name) == filters[name])
    if filters.get("q"):
        query = query.where(Client.business_name.ilike(f"%{filters['q']}%"))
    if filters.get("has_number") is not None:
        column = Client.twilio_number_sid
        query = query.where(column.is_not(None) if filters["has_number"] else column.is_(None))
    rows = list(db.session.scalars(query))
    page, more = rows[: filters["limit"]], len(rows) > filters["limit"]
    return {"clients": page, "count": len(page), "next_after": page[-1].id if more else None}


def update_client(client_id: int, changes: dict[str, Any]) -> Client:
    client = get_client(client_id)
    for name, value in changes.items():
        setattr(client, name, value)
    record_event("client.updated", f"client {client.id} updated: {', '.join(sorted(changes))}",
                 subject=client)
    if {"custom_greeting", "business_name", "business_hours"} & changes.keys():
        client_wording_changed.send(client.id)
    db.session.commit()
    return client

