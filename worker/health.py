"""A task that proves a worker is consuming its queue."""
from celery import shared_task


@shared_task(name="ringly.health.ping")
def ping() -> str:
    return "pong"
