"""One environment file for every process: flask commands, gunicorn's app and Celery's app."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ringly.config import ConfigurationError, load_env_file

ROOT = Path(__file__).resolve().parent.parent
SERVICE_VARS = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "TWILIO_ACCOUNT_SID",
                "TWILIO_AUTH_TOKEN", "TWILIO_API_BASE_URL", "WEBHOOK_BASE_URL", "SECRET_KEY",
                "RINGLY_ENV_FILE", "PURCHASES_PER_HOUR_LIMIT")
ENTRY_POINTS = {
    # What `flask --app wsgi …`, `gunicorn wsgi:app` and `celery -A worker …` each import.
    "flask": [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "keys", "list"],
    "gunicorn": [sys.executable, "-c", "import wsgi"],
    "celery": [sys.executable, "-c", "import worker"],
}


def write_env_file(folder: Path, database: Path) -> Path:
    env_file = folder / ".env"
    env_file.write_text(
        f"DATABASE_URL=sqlite:///{database}\n"
        f"CELERY_BROKER_URL=sqla+sqlite:///{folder / 'broker.db'}\n"
        "TWILIO_ACCOUNT_SID=AC" + "0" * 32 + "\n"
        "TWILIO_AUTH_TOKEN=from-the-env-file\n"
        "WEBHOOK_BASE_URL=https://ringly.example.com\n"
        "SECRET_KEY=from-the-env-file\n")
    return env_file


@pytest.mark.parametrize("process", sorted(ENTRY_POINTS))
def test_every_process_reads_the_same_env_file_and_says_so(tmp_path, process):
    database = tmp_path / "from-env-file.db"
    env_file = write_env_file(tmp_path, database)
    env = {name: value for name, value in os.environ.items() if name not in SERVICE_VARS}
    env.update(PYTHONPATH=str(ROOT), RINGLY_INSTANCE_PATH=str(tmp_path / "instance"),
               LOG_LEVEL="INFO")
    done = subprocess.run(ENTRY_POINTS[process], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    output = done.stdout + done.stderr
    assert f"environment file {env_file}" in output, output[-3000:]
    assert f"database sqlite:///{database}" in output, output[-3000:]
    assert "sandbox mode" not in output  # the file's Twilio account, not the embedded default


def test_the_real_environment_wins_over_the_file(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("PURCHASES_PER_HOUR_LIMIT=7\nNUMBERS_TOTAL_LIMIT=9\n")
    monkeypatch.chdir(tmp_path)
    environ = {"PURCHASES_PER_HOUR_LIMIT": "3"}
    assert load_env_file(environ) == (tmp_path / ".env").resolve()
    assert environ == {"PURCHASES_PER_HOUR_LIMIT": "3", "NUMBERS_TOTAL_LIMIT": "9"}


def test_a_named_env_file_that_is_missing_stops_start_up(tmp_path):
    with pytest.raises(ConfigurationError, match="RINGLY_ENV_FILE"):
        load_env_file({"RINGLY_ENV_FILE": str(tmp_path / "nope.env")})


def test_without_a_file_nothing_is_loaded(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    environ: dict[str, str] = {}
    assert load_env_file(environ) is None
    assert environ == {}
