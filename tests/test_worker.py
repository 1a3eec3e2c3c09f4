"""The worker process starts from `celery -A worker` and consumes this session's queue."""
from __future__ import annotations

import time

import pytest


@pytest.mark.e2e
def test_worker_process_consumes_tasks_sent_by_name(app, celery_worker):
    offset = celery_worker.log_path.stat().st_size
    app.extensions["celery"].send_task("ringly.health.ping")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with open(celery_worker.log_path, "rb") as handle:
            handle.seek(offset)
            new_lines = handle.read()
        if b"ringly.health.ping" in new_lines and b"succeeded" in new_lines:
            return
        time.sleep(0.1)
    pytest.fail("the worker did not run the task:\n" + celery_worker.log_tail())
