"""Record the Celery tasks an app sends instead of delivering them to a worker."""
from __future__ import annotations

import pytest
from flask import Flask


def record_sent_tasks(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple]]:
    """Replace the app's send_task for this test; returns the (name, args) list it fills."""
    sent: list[tuple[str, tuple]] = []
    monkeypatch.setattr(app.extensions["celery"], "send_task",
                        lambda name, args=(), **_options: sent.append((name, tuple(args))))
    return sent
