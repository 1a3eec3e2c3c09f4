"""Voice webhooks (every one signature-checked) and the cached audio they play."""
from __future__ import annotations

from flask import Blueprint, Flask, abort, current_app, request, send_file
from twilio.twiml.voice_response import VoiceResponse

from ringly.messaging.services import store_fallback_voicemail
from ringly.telephony.twiml import twiml
from ringly.telephony.webhooks import twilio_fallback_webhook, twilio_webhook
from ringly.voice import flow, records, services, tts
from ringly.voice.audio_store import HASH_RE
from ringly.voice.tts import audio_library

bp = Blueprint("voice", __name__)
PERSONAS = ("rachel", "lina")


@bp.post("/voice/rachel/")
@twilio_webhook
def entry():
    return twiml(services.answer_entry(request.form))


@bp.post("/voice/<persona>/<step>/<int:turn>")
@twilio_webhook
def step(persona: str, step: str, turn: int):
    if persona not in PERSONAS:
        abort(404)
    return twiml(services.answer_step(step, turn, request.form))


@bp.post("/voice/<persona>/transcription")
@twilio_webhook
def transcription(persona: str):
    services.store_transcription(request.form)
    return twiml(VoiceResponse())


@bp.post("/voice/fallback")
@twilio_fallback_webhook
def fallback():
    # Static on purpose: Twilio comes here when the main webhook failed, maybe with the DB.
    # What follows (the recording, its transcription) goes to the fallback host too: the main
    # one has just failed.
    return twiml(flow.fallback(current_app.config["WEBHOOK_FALLBACK_BASE_URL"]))


@bp.post("/voice/fallback/recorded")
@twilio_fallback_webhook
def fallback_recorded():
    # Both the <Record> action and its transcription callback post here; storing either is
    # idempotent per CallSid, so the order they arrive in does not matter.
    if request.form.get("RecordingUrl"):
        try:
            store_fallback_voicemail(request.form)
        except Exception:
            # The fallback runs when something is already broken (often the database): the
            # caller still gets a polite answer; the recording stays at Twilio and is logged.
            current_app.logger.exception("could not store a fallback voicemail (%s)",
                                         request.form.get("RecordingUrl"))
    return twiml(flow.fallback_thanks())


@bp.post("/webhook/twilio/status")
@twilio_webhook
def status():
    services.apply_status(request.form)
    return twiml(VoiceResponse())


@bp.get("/audio/<name>.mp3")
def audio(name: str):
    # Only a 64-hex name can reach the store: no path traversal.
    if not HASH_RE.match(name):
        abort(404)
    # A file, or the bytes from the database (any web host serves what any worker rendered);
    # also marks it played, at most hourly (cache eviction).
    source = audio_library().audio_source(name)
    if source is None:
        abort(404)
    return send_file(source, mimetype="audio/mpeg", max_age=31536000, conditional=True,
                     etag=name)


def init_app(app: Flask) -> None:
    tts.init_app(app)
    records.init_app(app)
    app.register_blueprint(bp)
