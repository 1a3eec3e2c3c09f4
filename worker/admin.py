"""Admin tasks: forgetting the console's sessions that have ended."""
from celery import shared_task

from ringly import tasks
from ringly.admin import users


@shared_task(name=tasks.EXPIRE_ADMIN_SESSIONS, acks_late=True)
def expire_admin_sessions() -> int:
    return users.expire_sessions()
