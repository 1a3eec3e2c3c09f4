"""A task that proves a worker is consuming its queue."""
from celery import shared_task

from ringly import tasks


@shared_task(name=tasks.HEALTH_PING)
def ping() -> str:
    return "pong"
