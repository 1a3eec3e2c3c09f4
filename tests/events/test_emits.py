"""Each domain records its event in the transaction of the change it reports."""
from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa

from ringly.booking import services as booking
from ringly.clients.models import Client
from ringly.db import db, utcnow
from ringly.events.models import Event
from ringly.messaging import outbound
from ringly.messaging.models import Message
from ringly.provisioning import saga
from ringly.provisioning.client_numbers import release_client_number, update_client_webhooks
from ringly.provisioning.models import ProvisioningJob
from ringly.provisioning.reconcile import reconcile_numbers
from tests.booking.test_services import _tomorrow_at
from tests.messaging.test_inbound import _book, _text
from tests.provisioning.conftest import make_job, provisioned_client
from tests.voice.conftest import make_client, signed_post

BODY = {"business_name": "Bella Salon", "email": "owner@bella.example", "country": "US"}


def recorded(kind: str | None = None) -> list[Event]:
    db.session.rollback()
    query = sa.select(Event).order_by(Event.id)
    if kind:
        query = query.where(Event.type == kind)
    return list(db.session.scalars(query))


def test_a_completed_job_emits_number_provisioned(prov, sandbox):
    job_id = make_job({**BODY, "areaCode": "415"}).id
    assert saga.advance(job_id) == "completed"
    job = db.session.get(ProvisioningJob, job_id)
    [event] = recorded("number.provisioned")
    assert event.client_id == job.client_id
    assert event.data == {"job_id": job_id, "client_id": job.client_id,
                          "phone_number": job.chosen_number, "sid": job.twilio_sid,
                          "number_type": "local"}


def test_a_failed_job_emits_number_provisioning_failed(prov, sandbox):
    job_id = make_job({**BODY, "areaCode": "533"}).id  # nothing for sale there
    assert saga.advance(job_id) == "failed"
    [event] = recorded("number.provisioning_failed")
    assert event.data["job_id"] == job_id and event.data["twilio_code"] == 21452
    assert event.data["code"] and event.data["message"]
    assert recorded("number.provisioned") == []


def test_releasing_a_number_emits_number_released(prov, sandbox):
    client_id, sid = provisioned_client()
    release_client_number(client_id)
    [event] = recorded("number.released")
    assert event.client_id == client_id
    assert event.data["sid"] == sid and event.data["reason"] == f"asked for client {client_id}"


def test_webhook_repairs_emit_number_webhooks_repaired(prov, sandbox):
    client_id, sid = provisioned_client()
    update_client_webhooks(client_id)
    old_base = prov.config["WEBHOOK_BASE_URL"]
    prov.config["WEBHOOK_BASE_URL"] = "https://new.ringly.example"
    try:
        reconcile_numbers()
    finally:
        prov.config["WEBHOOK_BASE_URL"] = old_base
    by_api, by_reconcile = recorded("number.webhooks_repaired")
    assert by_api.data["source"] == "api" and by_api.data["sid"] == sid
    assert by_reconcile.data["source"] == "reconcile"
    assert by_reconcile.data["voice_url_before"].startswith(old_base)
    assert by_reconcile.data["voice_url"] == "https://new.ringly.example/voice/rachel/"
    assert by_reconcile.client_id == client_id


def test_a_final_call_status_emits_call_completed_once(app, client):
    client_id = make_client(app)
    sid = "CA" + uuid.uuid4().hex
    for status in ("ringing", "completed", "completed"):
        signed_post(client, app, "/webhook/twilio/status", {
            "CallSid": sid, "From": "+13125550199", "To": "+13125550100",
            "Direction": "inbound", "CallStatus": status, "CallDuration": "42"})
    with app.app_context():
        [event] = recorded("call.completed")
        assert event.client_id == client_id
        assert {key: event.data[key] for key in ("call_sid", "status", "duration_seconds",
                                                 "from", "to")} == {
            "call_sid": sid, "status": "completed", "duration_seconds": 42,
            "from": "+13125550199", "to": "+13125550100"}
        db.session.remove()


def test_a_text_that_fails_emits_message_failed(app, client, sandbox):
    make_client(app, ringlypro_number="+15005550007")  # a From Twilio refuses (21606)
    with app.app_context():
        customer = db.session.scalar(sa.select(Client))
        appointment = booking.book_slot(customer, call_sid="CA" + "e" * 32, name="Ann Lee",
                                        phone="+13125550142", starts_at=_tomorrow_at(10),
                                        language="en", now=utcnow())
        message = outbound.queue_confirmation(appointment, customer)
        db.session.commit()
        outbound.send_message(message.id)
        [event] = recorded("message.failed")
        assert event.data["message_id"] == message.id and event.data["error_code"] == 21606
        assert event.data["purpose"] == "confirmation" and event.client_id == customer.id
        db.session.remove()


def test_an_undelivered_status_callback_emits_message_failed(app, client, sandbox):
    client_id = make_client(app)
    with app.app_context():
        message = Message(client_id=client_id, channel="sms", direction="outbound",
                          to_number="+13125550142", body="hi", status="sent",
                          sid="SM" + "a" * 32, purpose="confirmation")
        db.session.add(message)
        db.session.commit()
        message_id = message.id
        db.session.remove()
    for status in ("undelivered", "undelivered"):
        signed_post(client, app, "/webhook/twilio/sms-status", {
            "MessageSid": "SM" + "a" * 32, "MessageStatus": status, "ErrorCode": "30003"})
    with app.app_context():
        [event] = recorded("message.failed")
        assert event.data["message_id"] == message_id and event.data["status"] == "undelivered"
        db.session.remove()


def test_booking_a_slot_emits_appointment_booked(app, sandbox):
    make_client(app)
    with app.app_context():
        customer = db.session.scalar(sa.select(Client))
        appointment = booking.book_slot(customer, call_sid="CA" + "c" * 32, name="Ann Lee",
                                        phone="+13125550142", starts_at=_tomorrow_at(11),
                                        language="en", now=utcnow())
        db.session.commit()
        [event] = recorded("appointment.booked")
        assert event.client_id == customer.id
        assert event.data["appointment_id"] == appointment.id
        assert event.data["confirmation_code"] == appointment.confirmation_code
        assert datetime.fromisoformat(event.data["starts_at"]) == appointment.starts_at
        # The start in the client's zone, with its offset, as the appointment answers give it.
        assert event.data["timezone"] == "America/Chicago"
        assert event.data["starts_at_local"] == _tomorrow_at(11).isoformat()
        assert event.data["starts_at_local"][11:19] == "11:00:00"
        # A replayed confirmation on the same call books nothing new and emits nothing new.
        booking.book_slot(customer, call_sid="CA" + "c" * 32, name="Ann Lee",
                          phone="+13125550142", starts_at=_tomorrow_at(11), language="en",
                          now=utcnow())
        db.session.commit()
        assert len(recorded("appointment.booked")) == 1
        db.session.remove()


def test_cancelling_by_text_emits_appointment_cancelled(app, client):
    client_id = make_client(app)
    appointment_id = _book(app, client_id, 48)
    _text(app, client, "CANCEL")
    with app.app_context():
        [event] = recorded("appointment.cancelled")
        assert event.client_id == client_id and event.data["appointment_id"] == appointment_id
        assert event.data["status"] == "cancelled" and event.data["cancelled_at"]
        assert event.data["timezone"] == "America/Chicago"
        assert datetime.fromisoformat(event.data["starts_at_local"]) == datetime.fromisoformat(
            event.data["starts_at"])
        assert event.data["starts_at_local"][19:] in ("-06:00", "-05:00")
        db.session.remove()


def test_a_move_by_phone_is_one_appointment_changed_event(app, sandbox):
    make_client(app)
    with app.app_context():
        customer = db.session.scalar(sa.select(Client))
        first = booking.book_slot(customer, call_sid="CA" + "1" * 32, name="Ann Lee",
                                  phone="+13125550142", starts_at=_tomorrow_at(11),
                                  language="en", now=utcnow())
        db.session.commit()
        moved = booking.reschedule(first, _tomorrow_at(14), call_sid="CA" + "2" * 32,
                                   language="en", now=utcnow())
        db.session.commit()
        assert [event.type for event in recorded()] == ["appointment.booked",
                                                         "appointment.changed"]
        [changed] = recorded("appointment.changed")
        assert changed.data["appointment_id"] == moved.id != first.id
        assert changed.data["previous_appointment_id"] == first.id
        assert datetime.fromisoformat(changed.data["previous_starts_at"]) == _tomorrow_at(11)
        assert datetime.fromisoformat(changed.data["starts_at"]) == _tomorrow_at(14)
        assert (changed.data["starts_at_local"], changed.data["timezone"]) == (
            _tomorrow_at(14).isoformat(), "America/Chicago")
        db.session.remove()


def test_a_cancellation_by_phone_emits_appointment_cancelled(app, sandbox):
    make_client(app)
    with app.app_context():
        customer = db.session.scalar(sa.select(Client))
        appointment = booking.book_slot(customer, call_sid="CA" + "3" * 32, name="Ann Lee",
                                        phone="+13125550142", starts_at=_tomorrow_at(11),
                                        language="en", now=utcnow())
        db.session.commit()
        booking.cancel_by_caller(appointment, call_sid="CA" + "4" * 32)
        db.session.commit()
        [event] = recorded("appointment.cancelled")
        assert event.data["appointment_id"] == appointment.id
        assert (event.data["starts_at_local"], event.data["timezone"]) == (
            _tomorrow_at(11).isoformat(), "America/Chicago")
        db.session.remove()
