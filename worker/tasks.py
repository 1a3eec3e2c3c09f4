"""Celery tasks: thin wrappers that load a row by id and call one service step."""
