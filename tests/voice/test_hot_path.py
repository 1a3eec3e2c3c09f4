"""The webhooks' hot path stays one read and one write per turn, committed once."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from ringly.db import db
from tests.voice.conftest import make_client


@pytest.fixture
def statements(app) -> Iterator[list[str]]:
    """The first word of every SQL statement the app runs, plus "COMMIT" for each commit."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def on_execute(connection, cursor, statement, parameters, context, executemany):
        seen.append(statement.split(None, 1)[0].upper())

    def on_commit(connection):
        seen.append("COMMIT")

    sa.event.listen(engine, "before_cursor_execute", on_execute)
    sa.event.listen(engine, "commit", on_commit)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)
        sa.event.remove(engine, "commit", on_commit)


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
