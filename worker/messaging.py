"""Messaging tasks: sending recorded texts through the Twilio gateway, with capped retries."""
import random

from celery import shared_task

from ringly import tasks
from ringly.messaging import outbound


@shared_task(name=tasks.SEND_MESSAGE, bind=True, acks_late=True, max_retries=8)
def send_message(self, message_id: int) -> None:
    try:
        outbound.send_message(message_id)
    except outbound.SendLater as later:
        # Backoff and jitter come from the service; the attempt cap is on the message row.
        raise self.retry(countdown=later.delay * random.uniform(0.8, 1.2)) from later
