"""The WSGI entry point: `gunicorn wsgi:app`, and `flask --app wsgi ...` for CLI commands."""
from ringly import create_app

app = create_app()
