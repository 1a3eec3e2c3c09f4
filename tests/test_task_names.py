"""Every task name Ringly sends (by code or by beat) is registered by the worker under that name."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import celeryconfig
from ringly import tasks
from ringly.queue import enqueue_after_commit, send_now

ROOT = Path(__file__).resolve().parent.parent
SENDERS = {"enqueue_after_commit", "send_now", "send_task"}


def registered_task_names(env: dict[str, str]) -> set[str]:
    """The names the Celery app of `celery -A worker` knows, from a process of its own."""
    script = ("import json, worker; "
              "print(json.dumps(sorted(n for n in worker.celery_app.tasks "
              "if not n.startswith('celery.'))))")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True, timeout=120)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def registered(service_env: dict[str, str]) -> set[str]:
    import os

    return registered_task_names({**os.environ, **service_env})


def test_every_listed_task_name_is_registered_by_the_worker(registered):
    assert tasks.ALL - registered == set()
    assert registered - tasks.ALL == set(), "a task the worker has but ringly.tasks does not list"


def test_every_beat_entry_names_a_registered_task(registered):
    scheduled = {entry["task"] for entry in celeryconfig.beat_schedule.values()}
    assert scheduled and scheduled - registered == set()


def sent_names_in_source() -> list[tuple[str, int, ast.expr]]:
    """Every first argument of a call that sends a task, anywhere under ringly/."""
    found = []
    for path in (ROOT / "ringly").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and node.args:
                name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
                if name in SENDERS:
                    found.append((str(path.relative_to(ROOT)), node.lineno, node.args[0]))
    return found


def test_code_sends_tasks_only_by_a_listed_name():
    sent = sent_names_in_source()
    assert len(sent) >= 5
    for where, line, argument in sent:
        if where == "ringly/queue.py":
            continue  # the senders themselves pass the name through
        assert isinstance(argument, ast.Attribute) and ast.unparse(argument.value) == "tasks", (
            f"{where}:{line} sends {ast.unparse(argument)}, not a name from ringly.tasks")
        assert getattr(tasks, argument.attr) in tasks.ALL


def test_a_misspelt_name_is_refused_before_it_reaches_the_broker(app):
    with app.app_context():
        with pytest.raises(ValueError, match="ringly.provisioning.run_jobb"):
            enqueue_after_commit("ringly.provisioning.run_jobb", "job-id")
        with pytest.raises(ValueError):
            send_now("ringly.voice.render_lines", "text", "en")


def test_a_misspelt_worker_name_would_be_caught(registered):
    # What the first test compares against: a name off by one letter is not registered.
    assert "ringly.provisioning.run_jobb" not in registered
    assert tasks.RUN_PROVISIONING_JOB in registered
