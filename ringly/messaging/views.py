"""The inbound SMS webhook: every text stored, replies as TwiML <Message>."""
from __future__ import annotations

from flask import Blueprint, Flask, request
from twilio.twiml.messaging_response import MessagingResponse

from ringly.messaging import services
from ringly.messaging.outbound import record_delivery_status
from ringly.telephony.twiml import twiml
from ringly.telephony.webhooks import twilio_webhook

bp = Blueprint("messaging", __name__)


@bp.post("/webhook/twilio/sms")
@twilio_webhook
def inbound_sms():
    reply = services.answer_sms(request.form)
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return twiml(response)


@bp.post("/webhook/twilio/sms-status")
@twilio_webhook
def sms_status():
    record_delivery_status(request.form)
    return twiml(MessagingResponse())


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
