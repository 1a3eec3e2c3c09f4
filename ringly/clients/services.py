"""Clients: one by id, the list, and their settings."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import sqlalchemy as sa

from ringly.admin.services import record_event
from ringly.clients.models import Client
from ringly.db import db, newest_first
from ringly.destinations import check_client_destination
from ringly.errors import InvalidInput, NotFound
from ringly.paging import Keyset, Page, keyset_page
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


CLIENT_PAGES = Keyset.by_id("clients")


@dataclass
class ClientPage(Page):
    """A page of clients; `next_after` is the id `after` takes for the next page (the last id
    served), None on the last page."""

    next_after: int | None = None


def list_clients(filters: dict[str, Any]) -> ClientPage:
    """Clients newest first (by id), `limit` per page, from `cursor` or older than `after`."""
    page = keyset_page(CLIENT_PAGES, filters, partial(_clients, filters),
                       after=filters.get("after") or None)
    return ClientPage(page.rows, page.cursor, page.rows[-1].id if page.cursor else None)


def _clients(filters: dict[str, Any], limit: int, before_id: int | None) -> list[Client]:
    query = newest_first(sa.select(Client), Client.id, limit, before_id)
    for name in ("active", "rachel_enabled", "user_id"):
        if filters.get(name) is not None:
            query = query.where(getattr(Client, name) == filters[name])
    if filters.get("q"):
        query = query.where(Client.business_name.ilike(f"%{filters['q']}%"))
    if filters.get("has_number") is not None:
        column = Client.twilio_number_sid
        query = query.where(column.is_not(None) if filters["has_number"] else column.is_(None))
    return list(db.session.scalars(query))


def client_page(client_id: int, keyset: Keyset, args: dict[str, Any],
                fetch: Callable[[int, int, Any], Sequence[Any]]) -> Page:
    """One page of a client's rows (calls, texts, appointments), a 404 for no such client:
    `fetch(client_id, n, after)` returns up to n of them after the key `after`."""
    get_client(client_id)
    return keyset_page(keyset, args, lambda limit, after: fetch(client_id, limit, after))


def update_client(client_id: int, changes: dict[str, Any]) -> Client:
    client = get_client(client_id)
    if changes.get("forwarding_number"):
        # The bot dials this number for every caller who asks for a person: the same
        # destination policy as texts (country, no premium-rate or other costly ranges).
        refusal = check_client_destination(changes["forwarding_number"], client.country)
        if refusal is not None:
            raise InvalidInput(f"forwarding_number is refused: {refusal.detail}",
                               errors={"forwarding_number": [refusal.detail]},
                               reason=refusal.code)
    before = {name: getattr(client, name) for name in changes}
    for name, value in changes.items():
        setattr(client, name, value)
    if "timezone" in changes:
        client.timezone_source = "explicit"  # chosen: a number bought later never changes it
    record_event("client.updated", f"client {client.id} updated: {', '.join(sorted(changes))}",
                 subject=client, data={"before": before, "after": changes})
    if {"custom_greeting", "business_name", "business_hours"} & changes.keys():
        client_wording_changed.send(client.id)
    db.session.commit()
    return client

