"""Baselines for bench/voice.py: bare Flask apps answering one constant TwiML document.

`/voice/bare` does nothing else; `/voice/bare-db` first inserts and commits one row in
PostgreSQL (the floor for any webhook that durably records call state).
"""
import os
import uuid

import sqlalchemy as sa
from flask import Flask, Response
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

_engine = sa.create_engine(os.environ["DATABASE_URL"]) if os.environ.get("DATABASE_URL") else None
_rows = sa.table("bench_bare_calls", sa.column("call_sid"))


@app.route("/voice/bare", methods=["GET", "POST"])
def constant() -> Response:
    return Response(DOCUMENT, mimetype="text/xml")


@app.route("/voice/bare-db", methods=["POST"])
def constant_after_insert() -> Response:
    with _engine.begin() as connection:
        connection.execute(sa.insert(_rows).values(call_sid=uuid.uuid4().hex))
    return Response(DOCUMENT, mimetype="text/xml")
