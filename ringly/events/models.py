"""Event endpoints (where the embedding product wants events), events, and their deliveries."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ringly.db import UTCDateTime, db, utcnow

# A delivery is `pending` until the endpoint answers 2xx (`delivered`), until it is given up
# after its retry window (`failed`), or until its endpoint is deleted (`cancelled`).
DELIVERY_STATUSES = ("pending", "delivered", "failed", "cancelled")
URL_LENGTH = 2048
RESPONSE_SNIPPET_LENGTH = 1024


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


class EventEndpoint(db.Model):
    """A URL that receives events, signed with its own secret."""

    __tablename__ = "event_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(URL_LENGTH))
    description: Mapped[str | None] = mapped_column(sa.String(255))
    # Event types it receives, or ["*"] for every type.
    events: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # Kept as is: every delivery is signed with it (it is shown once, when the endpoint is made).
    secret: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # One worker at a time delivers to an endpoint, in order: it holds this lease (renewed
    # while it works); a crashed worker's lease simply runs out.
    lease_token: Mapped[str | None] = mapped_column(sa.String(32))
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def receives(self, event_type: str) -> bool:
        return "*" in self.events or event_type in self.events


class Event(db.Model):
    """Something that happened, recorded in the transaction that made it happen."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The stable id every delivery carries (receivers de-duplicate by it).
    uid: Mapped[str] = mapped_column(sa.String(40), unique=True, default=new_event_id)
    type: Mapped[str] = mapped_column(sa.String(64), index=True)
    # The client it concerns, a plain number like the audit log's: events outlive rows.
    client_id: Mapped[int | None] = mapped_column(index=True)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    deliveries = relationship("EventDelivery", back_populates="event",
                              order_by="EventDelivery.id", passive_deletes=True)

    def payload(self) -> dict[str, Any]:
        """What is POSTed: the same for every attempt and every endpoint."""
        return {"id": self.uid, "type": self.type,
                "created_at": self.created_at.isoformat(),
                "data": self.data}


class EventDelivery(db.Model):
    """One event to one endpoint: its attempts, the last answer, and when it is tried next."""

    __tablename__ = "event_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    endpoint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("event_endpoints.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_status: Mapped[int | None] = mapped_column()
    response_body: Mapped[str | None] = mapped_column(sa.String(RESPONSE_SNIPPET_LENGTH))
    error: Mapped[str | None] = mapped_column(sa.String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    event = relationship("Event", back_populates="deliveries")
    endpoint = relationship("EventEndpoint")

    __table_args__ = (
        sa.CheckConstraint(
            "status IN (" + ", ".join(f"'{status}'" for status in DELIVERY_STATUSES) + ")",
            name="status"),
        # An endpoint's queue, oldest first, and its history, newest first.
        sa.Index("ix_event_deliveries_endpoint_status", "endpoint_id", "status", "id"),
    )
