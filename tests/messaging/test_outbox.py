"""The text outbox: a webhook never waits on the broker, and a text committed while the broker
is down is sent by the sweep once it is back, exactly once."""
from __future__ import annotations

import logging
import socket
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ringly import create_app, tasks
from ringly.db import db, utcnow
from ringly.messaging import outbound
from ringly.messaging.models import Message
from ringly.messaging.outbox import RETRY_SILENCE, sender, sweep_outbox
from tests.voice.conftest import CALLER, Phone, make_client

MAGIC_FROM = "+15005550006"  # a "From" the sandbox always accepts


def _book(phone: Phone) -> None:
    """A whole booking call; the last turn commits the appointment and its text."""
    phone.dial_in()
    phone.press("1")
    phone.press("1")
    phone.say("Maria Lopez")
    phone.press("1")  # text the number I'm calling from
    phone.say("tomorrow at 10 am")
    phone.press("1")
    assert "You're booked for" in phone.said_last()


def _texts(app) -> list[Message]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Message).order_by(Message.id)))
        db.session.expunge_all()
        db.session.remove()
    return rows


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


@pytest.fixture
def app_with_broker_down(app, service_env, tmp_path):
    """A second web app on the same database whose broker refuses every connection."""
    down = create_app({
        "ENVIRON": {**service_env, "CELERY_BROKER_URL": f"redis://127.0.0.1:{_closed_port()}/0"},
        "INSTANCE_PATH": str(tmp_path),
    })
    yield down
    app.extensions["celery"].set_default()  # building an app makes its Celery the default
    with down.app_context():
        db.engine.dispose()


def test_the_booking_webhook_answers_before_the_text_reaches_the_broker(app, client,
                                                                          monkeypatch):
    make_client(app)
    events: list[tuple] = []
    broker_answers = threading.Event()

    def broker_that_hangs(name, args=(), **_options):
        broker_answers.wait(30)  # a broker that does not answer until the test lets it
        events.append(("broker", name, tuple(args), threading.current_thread().name))

    monkeypatch.setattr(app.extensions["celery"], "send_task", broker_that_hangs)
    _book(Phone(client, app))
    # Had any webhook waited on the broker, it would still be hanging (or would have logged
    # "broker" first after 30 s): the answer to Twilio came while the broker had not answered.
    events.append(("answered",))
    broker_answers.set()
    sender(app).wait_until_idle()
    [text] = _texts(app)
    assert events == [("answered",),
                      ("broker", tasks.SEND_MESSAGE, (text.id,), "text-outbox")]
    assert text.status == "queued"


def test_a_text_committed_while_the_broker_is_down_is_sent_by_the_sweep_once(
        app, app_with_broker_down, sent_tasks, sandbox, caplog):
    make_client(app, ringlypro_number=MAGIC_FROM)
    with caplog.at_level(logging.WARNING, logger="ringly.messaging.outbox"):
        # Every turn answers 200 (Phone checks it) although the broker refuses connections.
        _book(Phone(app_with_broker_down.test_client(), app_with_broker_down, to=MAGIC_FROM))
        sender(app_with_broker_down).wait_until_idle()
    [text] = _texts(app)
    assert text.status == "queued" and text.to_number == CALLER
    assert f"could not queue message {text.id}" in caplog.text  # it tried, and failed

    with app.app_context():
        window = app.config["TEXT_OUTBOX_SWEEP_AFTER"]
        assert sweep_outbox() == []  # still inside the window: the hand-over may yet arrive
        later = utcnow() + timedelta(seconds=window + 1)
        assert sweep_outbox(now=later) == [text.id]  # the broker is back (the session's)
        assert sent_tasks == [(tasks.SEND_MESSAGE, (text.id,))]
        assert sweep_outbox(now=later) == []  # touched: not queued again in the same window
        outbound.send_message(text.id)  # the worker runs the swept task
        outbound.send_message(text.id)  # ...and a late copy of it: nothing more is sent
        assert sweep_outbox(now=later + timedelta(hours=1)) == []  # sent: never swept again
        db.session.remove()
    assert _texts(app)[0].status == "sent"
    assert len(sandbox.messages()) == 1


@pytest.mark.e2e
def test_a_real_worker_sends_what_the_sweep_finds(app, app_with_broker_down, sandbox,
                                                  celery_worker):
    make_client(app, ringlypro_number=MAGIC_FROM)
    _book(Phone(app_with_broker_down.test_client(), app_with_broker_down, to=MAGIC_FROM))
    sender(app_with_broker_down).wait_until_idle()
    [text] = _texts(app)
    with app.app_context():
        later = utcnow() + timedelta(seconds=app.config["TEXT_OUTBOX_SWEEP_AFTER"] + 1)
        assert sweep_outbox(now=later) == [text.id]
        assert sweep_outbox(now=later + timedelta(seconds=3600)) in ([], [text.id])
        db.session.remove()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _texts(app)[0].status != "sent":
        time.sleep(0.2)
    assert _texts(app)[0].status == "sent", celery_worker.log_tail()
    assert len(sandbox.messages()) == 1


def _queued_text(app, status: str = "queued", age: timedelta = timedelta(0)) -> int:
    with app.app_context():
        client_id = make_client(app, ringlypro_number=MAGIC_FROM)
        message = Message(client_id=client_id, channel="sms", direction="outbound",
                          from_number=MAGIC_FROM, to_number="+13125550142", body="See you",
                          purpose="confirmation", status=status)
        db.session.add(message)
        db.session.commit()
        db.session.execute(sa.update(Message).where(Message.id == message.id)
                           .values(updated_at=utcnow() - age))
        db.session.commit()
        message_id = message.id
        db.session.remove()
    return message_id


def test_the_task_and_the_sweep_sending_at_once_send_one_text(app, sandbox):
    message_id = _queued_text(app)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def send() -> None:
        with app.app_context():
            start.wait()
            try:
                outbound.send_message(message_id)
            except BaseException as error:  # noqa: BLE001 (reported by the assertion below)
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    [text] = _texts(app)
    assert (text.status, text.attempts) == ("sent", 1)
    assert len(sandbox.messages()) == 1


def test_a_retrying_text_is_swept_only_once_its_retry_must_have_been_lost(app, sent_tasks):
    window = timedelta(seconds=app.config["TEXT_OUTBOX_SWEEP_AFTER"])
    waiting = _queued_text(app, status="retrying", age=window * 2)
    with app.app_context():
        assert sweep_outbox() == []  # its retry may still be in the broker
        lost = utcnow() + RETRY_SILENCE + window
        assert sweep_outbox(now=lost) == [waiting]
        db.session.remove()
    assert sent_tasks == [(tasks.SEND_MESSAGE, (waiting,))]


def test_refused_and_inbound_texts_are_never_swept(app):
    _queued_text(app, status="refused", age=timedelta(days=1))
    with app.app_context():
        client_id = db.session.scalar(sa.select(Message.client_id))
        db.session.add(Message(client_id=client_id, channel="sms", direction="inbound",
                               status="queued", from_number=CALLER, to_number=MAGIC_FROM))
        db.session.commit()
        assert sweep_outbox(now=utcnow() + timedelta(days=2)) == []
        db.session.remove()
