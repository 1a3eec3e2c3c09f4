"""The composition root and configuration."""
from __future__ import annotations

import pytest

from ringly import create_app
from ringly.config import SANDBOX_ACCOUNT_SID, ConfigurationError, load_config


def test_embedded_default_uses_sqlite_sqlite_broker_and_sandbox(tmp_path):
    config = load_config(str(tmp_path), env={})
    assert config["EMBEDDED"] is True
    assert config["SANDBOX_MODE"] is True
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'ringly.db'}"
    assert config["CELERY_BROKER_URL"].startswith("sqla+sqlite:///")
    assert config["TWILIO_ACCOUNT_SID"] == SANDBOX_ACCOUNT_SID
    assert config["TWILIO_API_BASE_URL"] == "http://127.0.0.1:8765"


def test_outside_embedded_mode_a_missing_secret_names_the_variable(tmp_path):
    with pytest.raises(ConfigurationError) as excinfo:
        load_config(str(tmp_path), env={"DATABASE_URL": "postgresql://db/ringly"})
    message = str(excinfo.value)
    for name in ("SECRET_KEY", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "WEBHOOK_BASE_URL",
                 "CELERY_BROKER_URL"):
        assert name in message


def test_postgres_scheme_is_normalised_for_sqlalchemy(tmp_path):
    env = {
        "DATABASE_URL": "postgres://u@h/db", "REDIS_URL": "redis://h:6379/0",
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "t",
        "WEBHOOK_BASE_URL": "https://ringly.example/", "SECRET_KEY": "s",
    }
    config = load_config(str(tmp_path), env=env)
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql://u@h/db"
    assert config["CELERY_BROKER_URL"] == "redis://h:6379/0"
    assert config["WEBHOOK_BASE_URL"] == "https://ringly.example"
    assert config["SANDBOX_MODE"] is False
    assert config["TWILIO_API_BASE_URL"] is None


def test_sandbox_mode_is_announced_in_one_log_line(tmp_path, caplog):
    caplog.set_level("INFO", logger="ringly")
    create_app({"ENVIRON": {}, "INSTANCE_PATH": str(tmp_path)})
    lines = [r.getMessage() for r in caplog.records if "sandbox mode" in r.getMessage()]
    assert len(lines) == 1
    assert "no real number is bought" in lines[0]


def test_creating_an_app_builds_no_connection_at_import(tmp_path):
    app = create_app({"ENVIRON": {}, "INSTANCE_PATH": str(tmp_path)})
    assert "celery" in app.extensions
    assert "telephony" in app.extensions
