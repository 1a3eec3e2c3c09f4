"""Event tasks: delivering an endpoint's pending events, the sweep that re-sends what is due, and
forgetting old events."""
from celery import shared_task

from ringly import tasks
from ringly.events import delivery, services


@shared_task(name=tasks.DELIVER_EVENTS, acks_late=True)
def deliver(endpoint_id: int) -> str:
    # Retries are rows (attempts, next attempt), not Celery retries: the service schedules them.
    return delivery.deliver_endpoint(endpoint_id)


@shared_task(name=tasks.SWEEP_EVENT_DELIVERIES, acks_late=True)
def sweep_deliveries() -> int:
    return delivery.sweep_deliveries()


@shared_task(name=tasks.EXPIRE_EVENTS, acks_late=True)
def expire_events() -> int:
    return services.expire_events()
