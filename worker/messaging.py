"""Messaging tasks: sending recorded texts through the Twilio gateway, with capped retries, and
the outbox sweep that sends texts whose hand-over to the broker was lost."""
import random

from celery import shared_task

from ringly import tasks
from ringly.messaging import outbound, outbox


@shared_task(name=tasks.SEND_MESSAGE, bind=True, acks_late=True, max_retries=8)
def send_message(self, message_id: int) -> None:
    try:
        outbound.send_message(message_id)
    except outbound.SendLater as later:
        # Backoff and jitter come from the service; the attempt cap is on the message row.
        raise self.retry(countdown=later.delay * random.uniform(0.8, 1.2)) from later


@shared_task(name=tasks.SWEEP_QUEUED_MESSAGES, acks_late=True)
def sweep_queued_messages() -> None:
    outbox.sweep_outbox()
