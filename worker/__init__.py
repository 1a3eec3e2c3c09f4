"""Ringly's Celery worker: `celery -A worker worker` (and `celery -A worker beat`)."""
from ringly import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]

# Importing the task modules registers their tasks by their stable names.
from worker import tasks  # noqa: E402,F401
