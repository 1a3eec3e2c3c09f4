"""The text outbox: a text is a committed row first; a sender thread hands it to the broker
after the commit, off the request, and a beat sweep re-sends what never reached the broker."""
from __future__ import annotations

import logging
import os
import queue
import threading
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from ringly import tasks
from ringly.db import db, utcnow
from ringly.messaging.models import Message
from ringly.queue import send_now

log = logging.getLogger(__name__)

_PENDING = "ringly_outbox_pending"
_EXTENSION = "ringly_text_outbox"
# Texts waiting for the sender thread; beyond this the sweep has them (they are committed).
MAX_WAITING = 10_000
SWEEP_BATCH = 500
# The longest a send task waits between attempts (outbound.MAX_BACKOFF plus its jitter): a
# retrying text untouched for longer lost its retry with the broker.
RETRY_SILENCE = timedelta(seconds=300 * 1.2)


def send_after_commit(message_id: int) -> None:
    """Hand the text to the broker once this transaction commits, from the sender thread."""
    db.session().info.setdefault(_PENDING, []).append(message_id)


@event.listens_for(Session, "after_commit")
def _hand_over_committed(session: Session) -> None:
    message_ids = session.info.pop(_PENDING, None)
    if message_ids:
        sender(current_app._get_current_object()).hand_over(message_ids)  # type: ignore[attr-defined]


@event.listens_for(Session, "after_rollback")
def _drop_uncommitted(session: Session) -> None:
    session.info.pop(_PENDING, None)


def sender(app: Flask) -> OutboxSender:
    """The app's sender (one per app; its thread starts on first use in each process)."""
    existing = app.extensions.get(_EXTENSION)
    if existing is None:
        existing = app.extensions.setdefault(_EXTENSION, OutboxSender(app))
    return existing


class OutboxSender:
    """A thread per process that queues send tasks, so no request waits on the broker."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._waiting: queue.Queue[int] = queue.Queue(MAX_WAITING)
        self._pid = 0
        self._lock = threading.Lock()

    def hand_over(self, message_ids: list[int]) -> None:
        self._start()
        for message_id in message_ids:
            try:
                self._waiting.put_nowait(message_id)
            except queue.Full:
                log.warning("text outbox full: message %s is left to the sweep", message_id)

    def wait_until_idle(self) -> None:
        """Block until every text handed over so far was passed to the broker or given up."""
        self._waiting.join()

    def _start(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():  # first use in this (perhaps forked) process
                self._waiting = queue.Queue(MAX_WAITING)
                threading.Thread(target=self._run, name="text-outbox", daemon=True).start()
                self._pid = os.getpid()

    def _run(self) -> None:
        while True:
            message_id = self._waiting.get()
            try:
                with self._app.app_context():
                    # One try: a broker that is down is the sweep's job. (retry=False would
                    # still wait out kombu's connection retries, 6 s on a refused connection.)
                    send_now(tasks.SEND_MESSAGE, message_id, retry=True,
                             retry_policy={"max_retries": 0})
            except Exception:
                log.warning("could not queue message %s; the outbox sweep will", message_id,
                            exc_info=True)
                self._give_up_waiting()
            finally:
                self._waiting.task_done()

    def _give_up_waiting(self) -> None:
        # The broker is down: trying each waiting text would only wait on it again. They are
        # committed, so the sweep sends them once it is back.
        while True:
            try:
                self._waiting.get_nowait()
            except queue.Empty:
                return
            self._waiting.task_done()


def sweep_outbox(now: datetime | None = None) -> list[int]:
    """Queue a send for every text still `queued` after TEXT_OUTBOX_SWEEP_AFTER seconds (its
    hand-over was lost: broker down, process gone), and every retrying text whose retry was
    lost. The send task locks the row and skips texts already sent, so a text the sender
    thread also queued is still sent once."""
    now = now or utcnow()
    window = timedelta(seconds=current_app.config["TEXT_OUTBOX_SWEEP_AFTER"])
    stale = sa.or_(
        sa.and_(Message.status == "queued", Message.updated_at < now - window),
        sa.and_(Message.status.in_(("retrying", "unknown")),
                Message.updated_at < now - window - RETRY_SILENCE),
    )
    message_ids = list(db.session.scalars(
        sa.select(Message.id)
        .where(Message.channel == "sms", Message.direction == "outbound", stale)
        .order_by(Message.id).limit(SWEEP_BATCH).with_for_update(skip_locked=True)))
    if not message_ids:
        db.session.rollback()
        return []
    # Touched, so the next sweep leaves them alone for another window while these are queued.
    db.session.execute(sa.update(Message).where(Message.id.in_(message_ids))
                       .values(updated_at=now))
    db.session.commit()
    for message_id in message_ids:
        send_now(tasks.SEND_MESSAGE, message_id)
    log.info("outbox sweep queued %d text(s)", len(message_ids))
    return message_ids
