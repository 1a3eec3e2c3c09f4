"""The inbound SMS webhook: every text stored, replies as TwiML <Message>."""
from __future__ import annotations

from flask import Blueprint, Flask, request
from twilio.twiml.messaging_response import MessagingResponse

from ringly.messaging import services
from ringly.voice.security import twilio_webhook
from ringly.voice.twiml import twiml

bp = Blueprint("messaging", __name__)


@bp.post("/webhook/twilio/sms")
@twilio_webhook
def inbound_sms():
    reply = services.answer_sms(request.form)
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return twiml(response)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
