"""The SQLAlchemy handle, naming conventions and column types shared by every domain."""
from __future__ import annotations

import select
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from werkzeug.routing import IntegerConverter

# Stable constraint names keep migrations reversible on PostgreSQL and SQLite alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


# A connection whose transaction the session works in, instead of opening its own (see
# `session_joins`).
_joined: ContextVar[sa.Connection | None] = ContextVar("ringly_joined_connection", default=None)


class Session(FlaskSession):
    """Flask-SQLAlchemy's session, which can work inside a transaction begun elsewhere."""

    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None,
                 **kwargs: Any) -> Any:
        return super().get_bind(mapper, clause, bind or _joined.get(), **kwargs)


@contextmanager
def session_joins(connection: sa.Connection) -> Iterator[None]:
    """While inside, `db.session` works in `connection`'s transaction if it is used at all: it
    reads and writes there and rolls that transaction back on `rollback()`, but leaves the
    commit to whoever began it (SQLAlchemy's "rollback_only" way of joining a transaction)."""
    token = _joined.set(connection)
    try:
        yield
    finally:
        _joined.reset(token)


db = SQLAlchemy(model_class=Base, session_options={"class_": Session})
migrate = Migrate()

# The largest id an Integer primary key holds (PostgreSQL's int4).
MAX_ROW_ID = 2**31 - 1
# Twilio's From and To: a phone number, or a SIP URI ("sip:+1415...@trunk.example.com") or a
# client name for calls from SIP trunks and apps.
ADDRESS_LENGTH = 255


def check_connections_on_checkout(app: Flask) -> None:
    """What `pool_pre_ping` guards against, for a fraction of its cost: a pooled connection the
    server closed while it waited (a restart, an idle timeout, a terminated backend) is pinged
    and replaced before anyone uses it. Only a connection whose socket has something to read is
    pinged: an idle PostgreSQL connection has nothing to say unless the server closed it. The
    SELECT 1 that `pool_pre_ping` sent on every checkout was a third of a webhook turn's round
    trips. A driver without a socket to look at (SQLite) is pinged every time, as before."""
    with app.app_context():
        engines = list(db.engines.values())
    for engine in engines:
        sa.event.listen(engine, "checkout", _ping_if_spoken_to(engine.dialect))


def _ping_if_spoken_to(dialect: sa.Dialect) -> Any:
    def on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        fileno = getattr(dbapi_connection, "fileno", None)
        if fileno is not None:
            try:
                waiting = select.poll()
                waiting.register(fileno(), select.POLLIN)
                spoken = waiting.poll(0)  # data, the end of the stream, or an error
            except Exception:  # closed on our side already: the ping says so
                spoken = [True]
            if not spoken:
                return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool drops this connection and checks out another (PoolEvents.checkout).
            raise sa.exc.DisconnectionError(str(error)) from error

    return on_checkout


class RowIdConverter(IntegerConverter):
    """`<int:...>` in every route: a number no row can have matches no route (a 404 problem)
    instead of reaching the database and failing there."""

    def __init__(self, url_map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = MAX_ROW_ID, signed: bool = False) -> None:  # noqa: A002
        super().__init__(url_map, fixed_digits, min, max, signed)


def newest_first(query: sa.Select, id_column: sa.ColumnElement, limit: int,
                 before_id: int | None) -> sa.Select:
    """`query` keyset-paged by id, newest first: `limit` rows older than `before_id`."""
    if before_id is not None:
        query = query.where(id_column < before_id)
    return query.order_by(id_column.desc()).limit(limit)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored with its zone and always read back as aware UTC (SQLite drops zones)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Timestamped:
    """created_at / updated_at kept by the ORM."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )
