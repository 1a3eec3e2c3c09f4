"""docker-compose.yml, read as docker compose would: every documented setting reaches web,
worker and beat; every service has a health check; Redis persists; the sandbox profile is whole."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
RINGLY_SERVICES = ("web", "worker", "beat")
DEMO_SERVICES = ("web-demo", "worker-demo", "beat-demo")


def documented_settings() -> list[str]:
    """Every variable named in the first column of the README's settings table."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("| variable | required |")
    table = readme[start:readme.index("\n\n", start)].splitlines()[2:]
    names = [name for row in table for name in re.findall(r"`([A-Z][A-Z0-9_]+)`",
                                                          row.split("|")[1])]
    assert len(names) > 40
    return names


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.mark.parametrize("service", RINGLY_SERVICES + DEMO_SERVICES)
def test_every_documented_setting_reaches_the_service(compose, service):
    spec = compose["services"][service]
    environment = spec["environment"]
    missing = [name for name in documented_settings() if name not in environment]
    assert missing == [], f"{service} does not receive {missing}"
    # .env reaches the container whole, and is optional (the shell may hold everything).
    assert {"path": ".env", "required": False} in spec["env_file"]


@pytest.mark.parametrize("service", RINGLY_SERVICES)
def test_production_services_pass_settings_through_rather_than_fix_them(compose, service):
    environment = compose["services"][service]["environment"]
    fixed_by_compose = {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "AUDIO_CACHE_DIR",
                        "RINGLY_INSTANCE_PATH"}
    for name, value in environment.items():
        if name not in fixed_by_compose:
            # No value: the shell's value if set, else .env's; never a silent default.
            assert value is None, f"{service} fixes {name}={value!r}"


def test_every_service_has_a_health_check(compose):
    for name, spec in compose["services"].items():
        assert spec.get("healthcheck", {}).get("test"), f"{name} has no health check"


def test_worker_and_beat_health_checks_look_at_the_process_itself(compose):
    assert "inspect ping" in " ".join(compose["services"]["worker"]["healthcheck"]["test"])
    assert "celerybeat-schedule" in " ".join(compose["services"]["beat"]["healthcheck"]["test"])


def test_redis_keeps_queued_tasks_across_a_restart(compose):
    redis = compose["services"]["redis"]
    assert redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    assert any(volume.endswith(":/data") for volume in redis["volumes"])


def test_the_audio_volume_is_the_folder_the_image_makes_writable(compose):
    dockerfile = (ROOT / "Dockerfile").read_text()
    for service in RINGLY_SERVICES:
        spec = compose["services"][service]
        assert "audio:/var/lib/ringly/audio" in spec["volumes"]
        assert spec["environment"]["AUDIO_CACHE_DIR"] == "/var/lib/ringly/audio"
    assert re.search(r"chown ringly [^\n]*/var/lib/ringly/audio", dockerfile)
    assert "audio" in compose["volumes"]


def test_profiles_keep_production_and_the_sandbox_demo_apart(compose):
    services = compose["services"]
    for name in ("migrate", *RINGLY_SERVICES):
        assert services[name]["profiles"] == ["production"]
        assert services[name]["build"]["target"] == "production"
    for name in ("sandbox", "migrate-demo", *DEMO_SERVICES):
        assert services[name]["profiles"] == ["sandbox"]
        assert services[name]["build"]["target"] == "demo"
    for name in DEMO_SERVICES:
        environment = services[name]["environment"]
        assert environment["TWILIO_API_BASE_URL"] == "http://sandbox:8765"
    # PostgreSQL and Redis serve both.
    assert "profiles" not in services["postgres"] and "profiles" not in services["redis"]
