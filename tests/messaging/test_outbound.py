"""Confirmation texts: sent once through the gateway, failures recorded and retried with a cap."""
from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from ringly.booking import services as booking
from ringly.clients.models import Client
from ringly.db import db, utcnow
from ringly.messaging import outbound
from ringly.messaging.models import Message
from ringly.telephony import get_gateway
from tests.booking.test_services import _tomorrow_at
from tests.voice.conftest import make_client, signed_post

MAGIC_FROM = "+15005550006"  # the sandbox (like Twilio's test credentials) always accepts it


def _queue_confirmation(app, phone="+13125550142", language="en",
                        client_number=MAGIC_FROM) -> int:
    make_client(app, ringlypro_number=client_number)
    with app.app_context():
        client = db.session.scalar(sa.select(Client))
        appointment = booking.book_slot(client, call_sid="CA" + "f" * 32, name="Ann Lee",
                                        phone=phone, starts_at=_tomorrow_at(10),
                                        language=language, now=utcnow())
        outbound.queue_confirmation(appointment, client)
        db.session.commit()
        message_id = db.session.scalar(sa.select(Message.id).where(
            Message.appointment_id == appointment.id))
        db.session.remove()
    return message_id


def _message(app, message_id) -> Message:
    with app.app_context():
        message = db.session.get(Message, message_id)
        db.session.expunge(message)
        db.session.remove()
    return message


def test_confirmation_is_sent_once_through_the_gateway(app, sandbox):
    message_id = _queue_confirmation(app, language="es")
    with app.app_context():
        outbound.send_message(message_id)
        outbound.send_message(message_id)  # a redelivered task sends nothing more
    message = _message(app, message_id)
    assert message.status == "sent" and message.sid.startswith("SM") and message.attempts == 1
    [sent] = sandbox.messages()
    assert sent["to"] == "+13125550142" and sent["from"] == MAGIC_FROM
    assert "su cita quedó para" in sent["body"] and "CONFIRMAR" in sent["body"]


def test_transient_failure_is_recorded_and_retried_with_capped_backoff(app, sandbox):
    message_id = _queue_confirmation(app)
    sandbox.set_faults(rate_503=1.0, only=["message"])
    delays = []
    with app.app_context():
        for _ in range(3):
            with pytest.raises(outbound.SendLater) as later:
                outbound.send_message(message_id)
            delays.append(later.value.delay)
    message = _message(app, message_id)
    # A 5xx on a send may hide a text that went out: the outcome is unknown until looked up.
    assert message.status == "unknown" and message.attempts == 3
    assert message.error_code == 20503 and delays == [5.0, 10.0, 20.0]
    sandbox.clear_faults()
    with app.app_context():
        outbound.send_message(message_id)
    assert _message(app, message_id).status == "sent" and len(sandbox.messages()) == 1


def test_permanent_failure_is_recorded_and_not_retried(app, sandbox):
    # A "From" Twilio says the account does not own (the policy checks only destinations).
    message_id = _queue_confirmation(app, client_number="+15005550007")
    with app.app_context():
        outbound.send_message(message_id)
    message = _message(app, message_id)
    assert message.status == "failed" and message.error_code == 21606
    assert sandbox.messages() == []


def test_sending_gives_up_after_the_attempt_cap(app, sandbox):
    message_id = _queue_confirmation(app)
    sandbox.set_faults(rate_500=1.0, only=["message"])
    with app.app_context():
        for _ in range(outbound.MAX_SEND_ATTEMPTS - 1):
            with pytest.raises(outbound.SendLater):
                outbound.send_message(message_id)
        outbound.send_message(message_id)
    message = _message(app, message_id)
    assert message.status == "failed" and message.attempts == outbound.MAX_SEND_ATTEMPTS


@pytest.mark.e2e
def test_worker_sends_the_confirmation_after_the_booking_commits(app, sandbox, celery_worker):
    message_id = _queue_confirmation(app)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _message(app, message_id).status != "sent":
        time.sleep(0.2)
    assert _message(app, message_id).status == "sent", celery_worker.log_tail()
    assert len(sandbox.messages()) == 1


def test_a_send_whose_answer_was_lost_is_looked_up_not_sent_twice(app, sandbox):
    message_id = _queue_confirmation(app)
    sandbox.set_faults(rate_drop=1.0, only=["message"])
    with app.app_context(), pytest.raises(outbound.SendLater):
        outbound.send_message(message_id)
    assert _message(app, message_id).status == "unknown"
    sandbox.clear_faults()
    # Twilio did accept it after all (the answer was what got lost).
    with app.app_context():
        message = db.session.get(Message, message_id)
        accepted = get_gateway().send_sms(to=message.to_number, from_=message.from_number,
                                          body=message.body)
        db.session.remove()
        outbound.send_message(message_id)
    message = _message(app, message_id)
    assert (message.status, message.sid) == ("sent", accepted.sid)
    assert len(sandbox.messages()) == 1


def test_a_lost_send_that_never_reached_twilio_is_sent_once(app, sandbox):
    message_id = _queue_confirmation(app)
    sandbox.set_faults(rate_drop=1.0, only=["message"])
    with app.app_context(), pytest.raises(outbound.SendLater):
        outbound.send_message(message_id)
    sandbox.clear_faults()
    with app.app_context():
        outbound.send_message(message_id)
    assert _message(app, message_id).status == "sent"
    assert len(sandbox.messages()) == 1


def _status_callback(app, client, params):
    return signed_post(client, app, "/webhook/twilio/sms-status", params)


def test_delivery_status_callbacks_move_a_message_forward_only(app, client, sandbox):
    message_id = _queue_confirmation(app)
    with app.app_context():
        outbound.send_message(message_id)
    sid = _message(app, message_id).sid
    failed = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert _status_callback(app, client, failed).status_code == 200
    late = {"MessageSid": sid, "MessageStatus": "sent"}
    assert _status_callback(app, client, late).status_code == 200
    message = _message(app, message_id)
    assert (message.status, message.error_code) == ("undelivered", 30003)
    unknown = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"}
    assert _status_callback(app, client, unknown).status_code == 200


@pytest.mark.parametrize("code", ["²", "99999999999", "-1"])
def test_an_error_code_no_column_can_hold_is_dropped_not_a_server_error(app, client, sandbox,
                                                                        code):
    message_id = _queue_confirmation(app)
    with app.app_context():
        outbound.send_message(message_id)
    callback = {"MessageSid": _message(app, message_id).sid, "MessageStatus": "failed",
                "ErrorCode": code}
    assert _status_callback(app, client, callback).status_code == 200
    message = _message(app, message_id)
    assert message.status == "failed" and message.error_code is None
    assert code in message.error_message  # what Twilio said is kept as text
