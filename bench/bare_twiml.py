"""Baselines for bench/voice.py: bare Flask apps answering one constant TwiML document.

`/voice/bare` does nothing else. `/voice/bare-db` first inserts and commits one row in
PostgreSQL through a SQLAlchemy engine. `/voice/bare-db-floor` is the least a mid-call step
can do against PostgreSQL: read the call's row by CallSid and write it back, each statement
autocommitted with `synchronous_commit=off`, on the thread's own psycopg2 connection (no pool,
no ORM, no transaction block). No webhook that keeps call state in PostgreSQL can be cheaper.
"""
import os
import threading
import uuid

import psycopg2
import sqlalchemy as sa
from flask import Flask, Response, request
from twilio.twiml.voice_response import VoiceResponse

app = Flask(__name__)
_menu = VoiceResponse()
_gather = _menu.gather(input="dtmf speech", action="http://127.0.0.1/voice/rachel/language/1",
                       num_digits=1, timeout=5, language="en-US")
_gather.say("For English, press 1 or say English.", voice="Polly.Joanna-Neural", language="en-US")
_gather.say("Para español, oprima 2 o diga español.", voice="Polly.Lupe-Neural",
            language="es-US")
_menu.redirect("http://127.0.0.1/voice/rachel/language/1")
DOCUMENT = str(_menu).encode()

DATABASE_URL = os.environ.get("DATABASE_URL")
_engine = sa.create_engine(DATABASE_URL) if DATABASE_URL else None
_rows = sa.table("bench_bare_calls", sa.column("call_sid"))
_local = threading.local()


def _thread_connection():
    connection = getattr(_local, "connection", None)
    if connection is None:
        url = sa.engine.make_url(DATABASE_URL)
        connection = psycopg2.connect(
            dbname=url.database, user=url.username, password=url.password, host=url.host,
            port=url.port, options="-c synchronous_commit=off")
        connection.autocommit = True
        _local.connection = connection
    return connection


@app.route("/voice/bare", methods=["GET", "POST"])
def constant() -> Response:
    return Response(DOCUMENT, mimetype="text/xml")


@app.route("/voice/bare-db", methods=["POST"])
def constant_after_insert() -> Response:
    with _engine.begin() as connection:
        connection.execute(sa.insert(_rows).values(call_sid=uuid.uuid4().hex))
    return Response(DOCUMENT, mimetype="text/xml")


@app.route("/voice/bare-db-floor", methods=["POST"])
def constant_after_read_and_write() -> Response:
    with _thread_connection().cursor() as cursor:
        cursor.execute("SELECT id, state FROM bench_bare_calls WHERE call_sid = %s",
                       (request.form["CallSid"],))
        row_id, _ = cursor.fetchone()
        cursor.execute("UPDATE bench_bare_calls SET state = %s WHERE id = %s",
                       ('{"turn": 4}', row_id))
    return Response(DOCUMENT, mimetype="text/xml")
