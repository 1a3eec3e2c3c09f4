"""Throwaway databases: a fresh PostgreSQL database or SQLite file per test session."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
from psycopg2 import sql

ADMIN_URL = os.environ.get(
    "TEST_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _admin_connection():
    connection = psycopg2.connect(ADMIN_URL)
    connection.autocommit = True
    return connection


@contextmanager
def fresh_postgres_database(prefix: str = "ringly_test") -> Iterator[str]:
    """Create an empty PostgreSQL database, yield its URL, drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    connection = _admin_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        base = ADMIN_URL.rsplit("/", 1)[0]
        yield f"{base}/{name}"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        connection.close()


@contextmanager
def fresh_sqlite_database(directory: Path) -> Iterator[str]:
    path = directory / f"ringly-{uuid.uuid4().hex[:8]}.db"
    try:
        yield f"sqlite:///{path}"
    finally:
        path.unlink(missing_ok=True)


def backend() -> str:
    """Which database the suite runs on: postgresql (default) or sqlite (embedded smoke run)."""
    value = os.environ.get("RINGLY_TEST_DB", "postgresql")
    if value not in ("postgresql", "sqlite"):
        raise RuntimeError(f"RINGLY_TEST_DB must be postgresql or sqlite, not {value!r}")
    return value
