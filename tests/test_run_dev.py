"""`make run` on the embedded default: it comes up, answers, books a call and stops cleanly."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from openapi_spec_validator import validate

from tests.support.wsgi_server import free_port

ROOT = Path(__file__).resolve().parents[1]
# PROMETHEUS_MULTIPROC_DIR too: this test process put its own in the environment, and make run
# must make (and empty) its own.
SERVICE_VARS = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "TWILIO_ACCOUNT_SID",
                "TWILIO_AUTH_TOKEN", "TWILIO_API_BASE_URL", "WEBHOOK_BASE_URL", "SECRET_KEY",
                "PROMETHEUS_MULTIPROC_DIR")


def wait_for_line(log: Path, text: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.3)
    pytest.fail(f"no {text!r} from run_dev.py:\n{log.read_text(errors='replace')[-4000:]}")


def group_is_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.e2e
def test_make_run_serves_the_embedded_default_and_stops_every_process(tmp_path):
    web_port, sandbox_port = free_port(), free_port()
    web = f"http://127.0.0.1:{web_port}"
    env = {name: value for name, value in os.environ.items() if name not in SERVICE_VARS}
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "scripts/run_dev.py", "--web-port", str(web_port),
             "--sandbox-port", str(sandbox_port), "--instance", str(tmp_path / "instance")],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_line(log, "Press Ctrl-C", process, timeout=90)
        output = log.read_text()
        assert "sandbox mode" in output
        key = (tmp_path / "instance" / "dev-api-key").read_text().strip()
        assert key in output
        # The console's development sign-in, printed like the key, works.
        email, password = re.search(r"sign in as (\S+) / (\S+)\)", output).groups()
        console = requests.Session()
        form = console.get(f"{web}/admin/sign-in", timeout=10).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        signed_in = console.post(f"{web}/admin/sign-in", timeout=10, data={
            "email": email, "password": password, "csrf_token": token})
        assert signed_in.status_code == 200 and "Dashboard" in signed_in.text
        # On the embedded default (plain http on loopback) the cookie is not Secure-only.
        assert "Secure" not in signed_in.history[0].headers["Set-Cookie"]

        assert requests.get(f"{web}/readyz", timeout=10).status_code == 200
        # One SECRET_KEY for every process (it signs paging cursors): each gunicorn worker drew
        # its own, so a cursor one worker gave out was a 422 at the next.
        environs = [env for env in map(environ, descendants(process.pid)) if env]
        keys = {env.get("SECRET_KEY") for env in environs}
        processes, distinct, missing = len(environs), len(keys), None in keys  # not the key
        assert processes >= 4 and distinct == 1 and not missing
        validate(requests.get(f"{web}/api/openapi.json", timeout=10).json())
        anonymous = requests.get(f"{web}/api/clients", timeout=10)
        assert anonymous.status_code == 401
        assert anonymous.headers["Content-Type"] == "application/problem+json"

        provisioned = requests.post(
            f"{web}/api/clients/provision", timeout=40,
            headers={"Authorization": f"Bearer {key}", "Prefer": "wait=30"},
            json={"business_name": "Bella Salon", "email": "owner@bella.example",
                  "areaCode": "312"})
        assert provisioned.status_code == 200, provisioned.text
        client = provisioned.json()["client"]
        number = client["ringlypro_number"]
        # Open every day, so "tomorrow at 10 am" is bookable whatever day the test runs on
        # (the default hours close at the weekend).
        opened = requests.patch(
            f"{web}/api/clients/{client['id']}", timeout=10,
            headers={"Authorization": f"Bearer {key}"},
            json={"business_hours": {day: [["09:00", "17:00"]] for day in
                                     ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}})
        assert opened.status_code == 200, opened.text

        call = subprocess.run(
            [sys.executable, "-m", "ringly.sandbox.call", "--sandbox",
             f"http://127.0.0.1:{sandbox_port}", "--to", number, "--from", "+13125550199",
             "--input", "1", "--input", "1", "--input", "speech:Maria Lopez", "--input", "1",
             "--input", "speech:tomorrow at 10 am", "--input", "1"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert call.returncode == 0, call.stderr
        assert "Thank you for calling Bella Salon" in call.stdout
        assert "confirmation code is" in call.stdout
        # One metrics folder for web and worker: /metrics (open on loopback here) shows the
        # worker's purchase beside gunicorn's webhook turns.
        scraped = requests.get(f"{web}/metrics", timeout=10).text
        assert 'ringly_numbers_total{change="bought"} 1.0' in scraped, scraped[-2000:]
        assert 'ringly_webhook_turns_total{step="entry"}' in scraped
    except BaseException:
        # Shown with the failure: what the supervisor and its children printed.
        print(log.read_text(errors="replace")[-8000:])
        raise
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=40)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while not group_is_gone(process.pid) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert group_is_gone(process.pid), "a child of run_dev.py outlived it"


def descendants(pid: int) -> set[int]:
    """Every process started under `pid`, found through /proc (children of children too)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def environ(pid: int) -> dict[str, str]:
    """A process's environment; empty if it has gone (or is a zombie)."""
    try:
        raw = (Path("/proc") / str(pid) / "environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {name.decode(errors="replace"): value.decode(errors="replace") for name, value in pairs}


def alive(pids: set[int]) -> set[int]:
    living = set()
    for pid in pids:
        try:
            state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            living.add(pid)
    return living


@pytest.mark.e2e
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_make_run_stops_every_child_while_a_task_is_running(tmp_path, how):
    """A worker in warm shutdown waits for its task; the supervisor waits a bounded time and
    then kills it, its pool and every other child."""
    web_port, sandbox_port = free_port(), free_port()
    web = f"http://127.0.0.1:{web_port}"
    env = {name: value for name, value in os.environ.items() if name not in SERVICE_VARS}
    env["TWILIO_READ_TIMEOUT"] = "120"  # the task waits on the sandbox for as long as it hangs
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "scripts/run_dev.py", "--web-port", str(web_port),
             "--sandbox-port", str(sandbox_port), "--instance", str(tmp_path / "instance")],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    children: set[int] = set()
    try:
        wait_for_line(log, "Press Ctrl-C", process, timeout=90)
        key = (tmp_path / "instance" / "dev-api-key").read_text().strip()
        sandbox = f"http://127.0.0.1:{sandbox_port}"
        requests.post(f"{sandbox}/sandbox/faults", json={"latency_ms": 120000,
                                                          "only": ["search"]}, timeout=10)
        accepted = requests.post(
            f"{web}/api/clients/provision", timeout=20,
            headers={"Authorization": f"Bearer {key}"},
            json={"business_name": "Slow Salon", "email": "slow@salon.example",
                  "areaCode": "312"})
        assert accepted.status_code == 202, accepted.text
        job = accepted.headers["Location"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = requests.get(f"{web}{job}", timeout=10,
                                  headers={"Authorization": f"Bearer {key}"}).json()["status"]
            if status != "queued":
                break
            time.sleep(0.3)
        assert status == "searching", status  # the worker is inside the hanging search
        children = descendants(process.pid)
        assert len(children) >= 5  # sandbox, gunicorn and its workers, worker and its pool, beat

        process.send_signal(how)
        process.wait(timeout=60)  # the grace period and the kill, not the task's two minutes
    except BaseException:
        print(log.read_text(errors="replace")[-8000:])
        raise
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, log.read_text(errors="replace")[-4000:]
    assert alive(children) == set(), "children outlived run_dev.py"
    assert "did not stop in time; killing it" in log.read_text(errors="replace")
