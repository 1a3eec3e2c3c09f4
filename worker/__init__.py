"""Ringly's Celery worker: `celery -A worker worker` (and `celery -A worker beat`)."""
import importlib
import pkgutil

from ringly import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]

# Every module in this package holds tasks; importing it registers them by stable name.
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
