"""A webhook turn's transaction and its call row: statements compiled once, run raw.

Every webhook turn reads one row and writes one back in one transaction. Through the ORM
session that took more CPU than PostgreSQL spent on the two statements: the session's own
transaction bookkeeping, compiled-cache lookups, execution contexts, result objects, loading
the client. Here a turn runs on a Core connection of its own (`turn_transaction`), which the
session joins only if the turn uses it (a booking, a text), so whatever it writes commits with
the call's row; each statement is compiled once per dialect, with SQLAlchemy's own bind and
result processing for its columns, and run on the DBAPI cursor. Errors are raised as
SQLAlchemy's (a disconnect invalidates the connection, as SQLAlchemy would), so callers catch
`sqlalchemy.exc.IntegrityError` as before.
"""
from __future__ import annotations

import copy
import hashlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import configure_mappers

from ringly.clients.models import Client
from ringly.db import db, session_joins

CLIENT_MAPPER = sa.inspect(Client)
# The client's columns in table order, with the attribute each one loads.
CLIENT_COLUMNS = tuple(Client.__table__.columns)
CLIENT_ATTRIBUTES = tuple(CLIENT_MAPPER.get_property_by_column(column).key
                          for column in CLIENT_COLUMNS)


# Each statement is PREPAREd once per PostgreSQL connection and then EXECUTEd: PostgreSQL
# parsed and planned the client join afresh on every turn, a third of its CPU per turn.
PREPARED = "ringly_prepared"  # in a pooled connection's `info`: the names prepared on it
PREPARED_STATEMENT_MISSING = "26000"  # PostgreSQL's invalid_sql_statement_name
_ENGINE_LOG = logging.getLogger("sqlalchemy.engine.Engine")


@dataclass(frozen=True)
class _Compiled:
    statement: str  # the SQL
    sql: str  # what runs: the statement, or EXECUTE of the prepared statement
    prepare: str | None  # PREPARE ... AS the statement, to run once per connection first
    name: str | None
    fixed: dict[str, Any]  # parameters the statement itself holds (a LIMIT's value)
    computed: tuple[tuple[str, Callable[[Any], Any]], ...]  # callable defaults, if not given
    names: tuple[str, ...]  # parameter order, for drivers with positional parameters
    positional: bool
    binds: tuple[tuple[str, Callable[[Any], Any]], ...]  # parameters needing conversion
    results: tuple[tuple[int, Callable[[Any], Any]], ...]  # columns needing conversion


class RawStatement:
    """A Core statement compiled once per dialect and run straight on a DBAPI cursor."""

    def __init__(self, statement: sa.Executable, column_keys: Sequence[str] | None = None):
        self.statement = statement
        self.column_keys = list(column_keys) if column_keys is not None else None
        self._compiled: dict[tuple[str, bool], _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, dialect: sa.Dialect, prepared: bool) -> _Compiled:
        key = (dialect.name, prepared)
        compiled = self._compiled.get(key)
        if compiled is not None:
            return compiled
        with self._lock:
            target = dialect
            if prepared:  # $1, $2... for PREPARE; EXECUTE's arguments are the driver's own
                target = copy.copy(dialect)
                target.paramstyle, target.positional = "numeric_dollar", True
            done = self.statement.compile(dialect=target, column_keys=self.column_keys)
            # Columns the caller leaves out whose default SQLAlchemy works out in Python (an
            # INSERT's `default=`, an UPDATE's `onupdate=`): the same values here.
            defaults = {column.key: column.default for column in done.insert_prefetch}
            defaults.update({column.key: column.onupdate for column in done.update_prefetch})
            if any(not (default.is_scalar or default.is_callable)
                   for default in defaults.values()):
                raise NotImplementedError(f"a SQL expression default in {done.string}")
            fixed = {name: bind.effective_value for name, bind in done.binds.items()
                     if not bind.required and name not in defaults}
            fixed.update({name: default.arg for name, default in defaults.items()
                          if default.is_scalar})
            if any(bind.expanding for bind in done.binds.values()):
                # An IN over a fixed list: render its values as plain parameters now, as
                # SQLAlchemy does for each execution.
                required = {bind.key for bind in done.binds.values() if bind.required}
                done = self.statement.params(dict.fromkeys(required)).compile(
                    dialect=target, column_keys=self.column_keys,
                    compile_kwargs={"render_postcompile": True})
                fixed = {name: value for name, value in done.construct_params().items()
                         if name not in required and name not in defaults}
            names = tuple(done.positiontup or ())
            name = "ringly_" + hashlib.sha1(done.string.encode()).hexdigest()[:16]
            columns = getattr(self.statement, "selected_columns", ())
            results = ((index, column.type.dialect_impl(dialect).result_processor(dialect, None))
                       for index, column in enumerate(columns))
            binds = ((name, bind.type.dialect_impl(dialect).bind_processor(dialect))
                     for name, bind in done.binds.items())
            compiled = _Compiled(
                statement=done.string,
                sql=f"EXECUTE {name}({', '.join(['%s'] * len(names))})" if prepared
                else done.string,
                prepare=f"PREPARE {name} AS {done.string}" if prepared else None,
                name=name if prepared else None,
                fixed=fixed, names=names,
                computed=tuple((name, default.arg) for name, default in defaults.items()
                               if default.is_callable), positional=done.positional,
                binds=tuple((name, processor) for name, processor in binds if processor),
                results=tuple((index, processor) for index, processor in results if processor))
            self._compiled[key] = compiled
        return compiled

    def _run(self, connection: sa.Connection, params: Mapping[str, Any], before: str = "",
             after: str = "") -> tuple[Any, _Compiled]:
        pool_connection = connection.connection
        info = pool_connection.info
        prepared = info.get(PREPARED)
        if prepared is None:  # this connection's first raw statement (or the first since a loss)
            prepared = info[PREPARED] = _server_prepared(pool_connection.dbapi_connection) \
                if _prepares(connection) else False
        compiled = self._compile(connection.dialect, prepared is not False)
        values = {**compiled.fixed, **params} if compiled.fixed else dict(params)
        for name, default in compiled.computed:
            if name not in params:
                values[name] = default(None)  # SQLAlchemy's wrapper of a no-argument callable
        for name, processor in compiled.binds:
            if name in values:
                values[name] = processor(values[name])
        arguments: Any = (tuple(values[name] for name in compiled.names)
                          if compiled.positional else values)
        dbapi_connection = pool_connection.dbapi_connection
        cursor = dbapi_connection.cursor()
        # SQLAlchemy's cursor events still see every statement (tests count them; tracing may
        # time them): the statement itself, even when what runs is the EXECUTE of it.
        # SQLAlchemy's own flags say whether anything listens (asking the listeners costs more).
        events = getattr(connection, "_has_events", True) or connection.engine._has_events
        try:
            if prepared is not False and compiled.name not in prepared:
                cursor.execute(compiled.prepare)
                prepared.add(compiled.name)
            if events:
                connection.dispatch.before_cursor_execute(
                    connection, cursor, compiled.statement, values, None, False)
            if _ENGINE_LOG.isEnabledFor(logging.INFO):  # as SQLAlchemy logs what it runs
                _ENGINE_LOG.info("%s", compiled.statement)
                _ENGINE_LOG.info("[raw] %r", values)
            cursor.execute(before + compiled.sql + after, arguments)
            if events:
                connection.dispatch.after_cursor_execute(
                    connection, cursor, compiled.statement, values, None, False)
        except connection.dialect.loaded_dbapi.Error as error:
            cursor.close()
            if getattr(error, "pgcode", None) == PREPARED_STATEMENT_MISSING:
                info.pop(PREPARED, None)  # the server forgot them (a DISCARD ALL): ask it again
            _raise_as_sqlalchemy(connection, dbapi_connection, compiled.sql, arguments, error)
        return cursor, compiled

    def first(self, connection: sa.Connection, params: Mapping[str, Any],
              before: str = "") -> tuple | None:
        """The first row, each column converted as SQLAlchemy would, or None."""
        cursor, compiled = self._run(connection, params, before)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None or not compiled.results:
            return row
        values = list(row)
        for index, processor in compiled.results:
            if values[index] is not None:
                values[index] = processor(values[index])
        return tuple(values)

    def execute(self, connection: sa.Connection, params: Mapping[str, Any],
                after: str = "") -> None:
        self._run(connection, params, after=after)[0].close()


def _server_prepared(dbapi_connection: Any) -> set[str]:
    """The statements the server holds prepared for this connection (once per connection, and
    again after it forgot some): preparing one twice would be an error."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor}


def _prepares(connection: sa.Connection) -> bool:
    """Whether statements are prepared on this connection: PostgreSQL through psycopg2, unless
    DATABASE_PREPARED_STATEMENTS is off (a pooler that shares server connections between
    clients, such as PgBouncer in transaction mode, cannot keep them)."""
    return connection.dialect.driver == "psycopg2" and \
        current_app.config["DATABASE_PREPARED_STATEMENTS"]


def _raise_as_sqlalchemy(connection: sa.Connection, dbapi_connection: Any, sql: str,
                         arguments: Any, error: Exception) -> None:
    """Raise the driver's `error` as SQLAlchemy would (its exception class, and a connection
    that is gone invalidated so the pool never lends it again)."""
    dialect = connection.dialect
    invalidated = dialect.is_disconnect(error, dbapi_connection, None)
    if invalidated:
        connection.invalidate(error)
    raise sa.exc.DBAPIError.instance(
        sql, arguments, error, dialect.loaded_dbapi.Error, connection_invalidated=invalidated,
        dialect=dialect) from error


class TurnTransaction:
    """One webhook turn's transaction, on a connection of its own.

    On PostgreSQL through psycopg2 it costs two round trips: BEGIN goes with the first
    statement and COMMIT with the last (psycopg2 would send each on its own, and a turn's
    statements are cheap next to a round trip). The driver is in autocommit mode meanwhile, so
    the transaction is the one the SQL opens and ends; SQLAlchemy's own transaction on the
    connection is kept alongside for the session to join. Elsewhere (SQLite) the driver's own
    transaction is used, as SQLAlchemy would."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        self.transaction = connection.begin()
        dbapi_connection = connection.connection.dbapi_connection
        self._driver = dbapi_connection if connection.dialect.driver == "psycopg2" else None
        if self._driver is not None:
            self._driver.autocommit = True
        self._begun = self._driver is None  # BEGIN not sent yet
        self.committed = False

    def first(self, statement: RawStatement, params: Mapping[str, Any]) -> tuple | None:
        """The first row of `statement` (the turn's first statement begins the transaction)."""
        try:
            return statement.first(self.connection, params, before=self._begin())
        except sa.exc.DBAPIError as error:
            if self._driver is None or self.connection.invalidated or \
                    getattr(error.orig, "pgcode", None) != PREPARED_STATEMENT_MISSING:
                raise
        # The server forgot the prepared statements (a DISCARD ALL): nothing is done yet, so
        # the turn begins again, preparing what it needs.
        self._raw("ROLLBACK")
        self._begun = False
        return statement.first(self.connection, params, before=self._begin())

    def commit_with(self, statement: RawStatement, params: Mapping[str, Any]) -> None:
        """Run the turn's last statement and commit, after anything the session wrote."""
        if _session_in_use():
            db.session.flush()
        if not self.transaction.is_active:
            # The session rolled back (it rolls back the transaction it joined): store nothing.
            raise RuntimeError("the session rolled back inside a webhook turn; nothing is stored")
        if self._driver is None:
            statement.execute(self.connection, params)
        else:
            statement.execute(self.connection, params, after="; COMMIT")
        self.transaction.commit()  # the session joins SQLAlchemy's side of it; hooks see it
        self.committed = True

    def rollback(self) -> None:
        """End the turn storing nothing (a replay, an unknown number)."""
        if self._driver is not None and self._open():
            self._raw("ROLLBACK")
        if self.transaction.is_active:
            self.transaction.rollback()

    def _begin(self) -> str:
        if self._begun:
            return ""
        self._begun = True
        return "BEGIN; "

    def _open(self) -> bool:
        return self._driver.get_transaction_status() != TRANSACTION_STATUS_IDLE

    def _raw(self, sql: str) -> None:
        assert self._driver is not None
        with self._driver.cursor() as cursor:
            cursor.execute(sql)

    def close(self) -> None:
        """Roll back whatever is still open, and give the connection back as it was lent."""
        try:
            if self._driver is not None and not self._driver.closed:
                if self._open():
                    self._raw("ROLLBACK")
                self._driver.autocommit = False
        except self.connection.dialect.loaded_dbapi.Error as error:
            # A broken connection: the pool replaces it rather than lend it out again.
            self.connection.invalidate(error)
        finally:
            if self.transaction.is_active:
                self.transaction.rollback()
            self.connection.close()


TRANSACTION_STATUS_IDLE = 0  # psycopg2.extensions.TRANSACTION_STATUS_IDLE (libpq's PQTRANS_IDLE)


@contextmanager
def turn_transaction() -> Iterator[TurnTransaction]:
    """A turn: its block ends it with `commit_with` (the last write and the commit) or
    `rollback`; if the block raises, or ends it neither way, nothing it did is stored.

    `db.session` joins the turn's transaction if the block uses it: it is flushed before the
    commit, and its after-commit work (texts handed to the broker, queued tasks) runs after it,
    as a session's own commit would do. A turn whose session rolls back stores nothing; the
    session must not commit inside a turn (the turn commits, once, with its last write)."""
    connection = db.engine.connect()
    try:
        turn = TurnTransaction(connection)
    except BaseException:
        connection.close()  # a connection that broke as it was lent: back to the pool
        raise
    session = db.session
    try:
        with session_joins(turn.connection):
            yield turn
    except BaseException:
        if _session_in_use():
            session.rollback()
        raise
    else:
        if _session_in_use():
            # Writes nothing (the transaction was the turn's, committed or rolled back above):
            # it ends the session's part in it and runs its after-commit hooks.
            if turn.committed:
                session.commit()
            else:
                session.rollback()
    finally:
        turn.close()


def _session_in_use() -> bool:
    return db.session.registry.has() and db.session().in_transaction()


def client_from_row(values: Sequence[Any]) -> Client:
    """The client whose columns (in `CLIENT_COLUMNS` order) are `values`, as if the ORM had
    loaded it and the session had then let it go (detached, every column loaded): no SQL is
    emitted, and the session never tracks it (a turn's session mostly goes unused). Adding it
    to a session, or an object that refers to it, makes it persistent without an INSERT."""
    if not CLIENT_MAPPER.configured:  # a fresh process, where nothing has used the ORM yet
        configure_mappers()
    client = CLIENT_MAPPER.class_manager.new_instance()
    state = sa.inspect(client)
    # What the ORM's loading does for a new instance: the loaded values, with no history, and
    # the identity key that makes it detached rather than transient (make_transient_to_detached
    # does the same and more, for an instance that may have history: a tenth of a turn's work).
    state.dict.update(zip(CLIENT_ATTRIBUTES, values, strict=True))
    state.key = CLIENT_MAPPER.identity_key_from_primary_key((state.dict["id"],))
    return client
