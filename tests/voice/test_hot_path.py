"""The webhooks' hot path stays one read and one write per turn, committed once."""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg2
import psycopg2.extensions
import pytest
import sqlalchemy as sa

from ringly.admin.models import AuditEvent
from ringly.admin.services import record_event
from ringly.clients.models import Client
from ringly.db import db
from ringly.voice import conversation
from ringly.voice.call_rows import CLIENT_ATTRIBUTES, client_from_row
from ringly.voice.models import Call
from tests.voice.conftest import Phone, make_client, signed_post


class Driver:
    """What the app sends PostgreSQL, seen at psycopg2's cursors (so statements that skip
    SQLAlchemy's execution count as much as any other): the first word of each statement (of
    the prepared one, for an EXECUTE), "COMMIT" for each commit whether sent as SQL or by the
    driver, and each PREPARE apart. BEGIN is left out (psycopg2 sends it on its own too), and so
    is the look at what a new connection has prepared."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.prepared: list[tuple[int, str]] = []  # (connection, statement name)
        self._words: dict[str, str] = {}

    def saw(self, connection: psycopg2.extensions.connection, query: str) -> None:
        for statement in filter(None, (part.strip() for part in query.split(";"))):
            self._saw_one(connection, statement)

    def _saw_one(self, connection: psycopg2.extensions.connection, statement: str) -> None:
        words = statement.split(None, 4)
        first = words[0].upper()
        if "pg_prepared_statements" in statement:  # what is prepared: once per connection
            return
        if first == "PREPARE":  # PREPARE name AS statement: once per connection
            self.prepared.append((id(connection), words[1]))
            self._words[words[1]] = words[3].upper()
        elif first == "EXECUTE":
            name = words[1].split("(", 1)[0]
            if name not in self._words:  # prepared on this connection before the test began
                with psycopg2.extensions.cursor(connection) as cursor:
                    cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = %s",
                                   (name,))
                    self._words[name] = cursor.fetchone()[0].split(None, 4)[3].upper()
            self.statements.append(self._words[name])
        elif first != "BEGIN":
            self.statements.append(first)


@pytest.fixture
def driver(app) -> Iterator[Driver]:
    seen = Driver()
    with app.app_context():
        engine = db.engine
    if engine.dialect.driver != "psycopg2":
        pytest.skip("statements are counted at psycopg2's cursors")

    class RecordingCursor(psycopg2.extensions.cursor):
        def execute(self, query, variables=None):
            seen.saw(self.connection, query)
            return super().execute(query, variables)

    def on_checkout(dbapi_connection, record, proxy):
        dbapi_connection.cursor_factory = RecordingCursor

    def on_checkin(dbapi_connection, record):
        if dbapi_connection is not None:
            dbapi_connection.cursor_factory = None

    def on_commit(connection):
        # The driver's commit, unless it is in autocommit mode (the commit went as SQL).
        if not connection.connection.dbapi_connection.autocommit:
            seen.statements.append("COMMIT")

    sa.event.listen(engine, "checkout", on_checkout)
    sa.event.listen(engine, "checkin", on_checkin)
    sa.event.listen(engine, "commit", on_commit)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "checkout", on_checkout)
        sa.event.remove(engine, "checkin", on_checkin)
        sa.event.remove(engine, "commit", on_commit)


@pytest.fixture
def statements(driver) -> list[str]:
    return driver.statements


def test_each_turn_is_one_read_one_write_and_one_commit(app, phone, statements):
    make_client(app)
    statements.clear()
    phone.dial_in()
    assert statements == ["SELECT", "INSERT", "COMMIT"]

    statements.clear()
    phone.press("1")  # English: the greeting and the menu of intents
    assert statements == ["SELECT", "UPDATE", "COMMIT"]

    statements.clear()
    phone.say("I'd like to book an appointment")
    assert statements == ["SELECT", "UPDATE", "COMMIT"]
    assert "name" in phone.said_last().lower()


def test_a_replayed_turn_reads_and_writes_nothing_new(app, phone, statements):
    make_client(app)
    phone.dial_in()
    first = phone.press("1")
    action = phone.documents[-2].find("Gather").get("action")
    statements.clear()
    again = phone.post(action, Digits="1")
    assert "UPDATE" not in statements and "INSERT" not in statements
    assert [element.tag for element in again] == [element.tag for element in first]


def test_each_statement_is_prepared_once_per_connection(app, phone, driver):
    make_client(app)
    phone.dial_in()
    phone.press("1")
    phone.say("I'd like to book an appointment")
    phone.say("Maria Lopez")
    assert len(driver.prepared) == len(set(driver.prepared))
    assert "PREPARE" not in driver.statements


def test_without_prepared_statements_a_turn_sends_its_statements_as_they_are(
        app, phone, driver, monkeypatch):
    make_client(app)
    monkeypatch.setitem(app.config, "DATABASE_PREPARED_STATEMENTS", False)
    with app.app_context():
        db.engine.dispose()  # each connection decides when it is first used
    driver.statements.clear()
    try:
        phone.dial_in()
        phone.press("1")
    finally:
        with app.app_context():
            db.engine.dispose()
    assert driver.prepared == []
    assert driver.statements == ["SELECT", "INSERT", "COMMIT", "SELECT", "UPDATE", "COMMIT"]


def _backend_pid(app) -> int:
    with app.app_context(), db.engine.connect() as connection:
        return connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()


def test_a_connection_the_server_closed_is_replaced_before_a_turn_uses_it(app, phone):
    make_client(app)
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("terminates a PostgreSQL backend")
        db.engine.dispose()
    phone.dial_in()
    pid = _backend_pid(app)  # the one pooled connection, which the first turn used
    with app.app_context(), db.engine.connect() as other:
        pass  # (the pool lends `pid` again: it is the only connection it holds)
    killer = psycopg2.connect(app.config["SQLALCHEMY_DATABASE_URI"])
    killer.autocommit = True
    with killer.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
        for _ in range(100):  # the backend exits (and closes its end) soon after the signal
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.05)
    killer.close()
    assert other.closed
    phone.press("1")  # no error: the pool noticed the closed connection and lent another
    assert "book" in phone.said_last().lower()
    assert _backend_pid(app) != pid


def test_a_turn_that_fails_stores_nothing_and_leaves_no_transaction_open(
        app, phone, monkeypatch):
    make_client(app)
    phone.dial_in()
    phone.press("1")

    def fails_after_writing(ctx, turn):
        record_event("test.written", "written by a turn that then fails", subject=ctx.client)
        db.session.flush()
        raise RuntimeError("the handler broke")

    monkeypatch.setitem(conversation.HANDLERS, "intent", fails_after_writing)
    action = urlsplit(phone.last.find("Gather").get("action")).path
    with contextlib.suppress(RuntimeError):  # raised to the test client, or else a 500
        response = signed_post(phone.http, app, action,
                               phone._params(SpeechResult="book", Confidence="0.9"))
        assert response.status_code >= 500
    with app.app_context():
        call = db.session.scalar(sa.select(Call).where(Call.call_sid == phone.call_sid))
        assert (call.step, call.state["turn"]) == ("intent", 2)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.kind == "test.written")) == 0
        if db.engine.dialect.name == "postgresql":
            assert db.session.scalar(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()")) == 0
        db.session.remove()
    monkeypatch.undo()
    phone.say("book")  # the same turn again, now answered
    assert "name" in phone.said_last().lower()


def test_the_first_turn_stores_the_columns_defaults(app, phone):
    make_client(app)
    phone.dial_in()
    with app.app_context():
        call = db.session.scalar(sa.select(Call).where(Call.call_sid == phone.call_sid))
        assert (call.purpose, call.retries, call.step) == ("caller", 0, "language")
        db.session.remove()


def test_a_turns_client_is_the_one_the_orm_would_load(app):
    client_id = make_client(app, custom_greeting="Hello", closed_dates=[{"from": "2026-12-24",
                                                                         "to": "2026-12-26"}])
    with app.app_context():
        loaded = db.session.get(Client, client_id)
        columns = [getattr(loaded, attribute) for attribute in CLIENT_ATTRIBUTES]
        db.session.expunge(loaded)
        built = client_from_row(columns)
        state = sa.inspect(built)
        assert state.detached and state.key == sa.inspect(loaded).key
        assert not state.unloaded and not state.expired_attributes and not state.modified
        assert {attribute: getattr(built, attribute) for attribute in CLIENT_ATTRIBUTES} == \
            {attribute: getattr(loaded, attribute) for attribute in CLIENT_ATTRIBUTES}
        # An object that refers to it takes it into the session without inserting it again.
        db.session.add(built)
        assert built in db.session and not db.session.new
        db.session.rollback()
        db.session.remove()


def test_a_statement_the_server_forgot_is_prepared_again(app, client):
    make_client(app)
    with app.app_context():
        if db.engine.dialect.driver != "psycopg2":
            pytest.skip("prepares on PostgreSQL")
        db.engine.dispose()
    Phone(client, app).dial_in()  # the pool's one connection prepares the first turn's query
    with app.app_context(), db.engine.connect() as connection:
        connection.exec_driver_sql("DEALLOCATE ALL")  # as a pooler's DISCARD ALL would
        connection.commit()
    # The next calls are answered: the first statement of the turn finds its prepared statement
    # gone, and the turn begins again, preparing what it needs.
    for _ in range(2):
        phone = Phone(client, app)
        assert phone.dial_in().find("Gather") is not None
        assert phone.press("1").find("Gather") is not None
