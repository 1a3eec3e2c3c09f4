"""`make run`: migrate, then run sandbox + web + worker + beat together until Ctrl-C."""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# How long the children get, in all, to stop on their own before they are killed.
STOP_GRACE_S = 10.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--web-port", type=int, default=5000)
    parser.add_argument("--sandbox-port", type=int, default=8765)
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--instance", type=Path, default=ROOT / "instance",
                        help="folder for the SQLite files, sandbox state and the dev key")
    return parser.parse_args()


def run_once(args: list[str], env: dict[str, str]) -> None:
    completed = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    if completed.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{completed.stdout}{completed.stderr}")


def development_key(env: dict[str, str], instance: Path) -> str:
    """One development API key, kept in instance/ so it stays the same across runs."""
    key_file = instance / "dev-api-key"
    if not key_file.exists():
        key_file.write_text("rk_dev_" + secrets.token_urlsafe(24) + "\n")
        key_file.chmod(0o600)
    raw_key = key_file.read_text().strip()
    # Every scope: the development key is for trying the whole API against the sandbox.
    run_once([str(BIN / "flask"), "--app", "wsgi", "keys", "ensure", "development", raw_key,
              "--scope", "read", "--scope", "provision", "--scope", "admin"], env)
    return raw_key


DEV_ADMIN_EMAIL = "dev@ringly.local"


def development_admin(env: dict[str, str], instance: Path) -> tuple[str, str]:
    """One development sign-in for the console, kept in instance/ like the API key."""
    password_file = instance / "dev-admin-password"
    if not password_file.exists():
        password_file.write_text(secrets.token_urlsafe(18) + "\n")
        password_file.chmod(0o600)
    password = password_file.read_text().strip()
    completed = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "admin", "ensure", DEV_ADMIN_EMAIL], cwd=ROOT,
        env=env, input=password + "\n", capture_output=True, text=True)
    if completed.returncode != 0:
        sys.exit(f"flask admin ensure failed:\n{completed.stdout}{completed.stderr}")
    return DEV_ADMIN_EMAIL, password


# The SQLite broker creates its queue row on first use; web and worker doing so at the same
# moment made one of them fail (UNIQUE constraint on kombu_queue.name) and a job waited for
# the stale-job sweep. Declaring the queue once, before either starts, removes the race.
DECLARE_QUEUE = (
    "import worker\n"
    "from kombu import Queue\n"
    "app = worker.celery_app\n"
    "with app.connection_for_write() as connection:\n"
    "    Queue(app.conf.task_default_queue).bind(connection.default_channel).declare()\n"
)


def wait_until_ready(url: str, processes: dict[str, subprocess.Popen], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in processes.values()):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


def signal_group(process: subprocess.Popen, signum: int) -> None:
    """Signal a child and everything it started (the worker's pool, gunicorn's workers)."""
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


def stop_all(processes: dict[str, subprocess.Popen], grace: float = STOP_GRACE_S) -> None:
    """Ask every child to stop, wait at most `grace` seconds in all, then kill what is left.

    A Celery worker asked to stop waits for its running task ("warm shutdown") and can wait
    forever on one that hangs; a second Ctrl-C while stopping kills everything at once."""
    hurry = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: hurry.set())
    for process in processes.values():
        if process.poll() is None:
            signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while not hurry.is_set() and time.monotonic() < deadline:
        if all(process.poll() is not None for process in processes.values()):
            break
        time.sleep(0.1)
    for name, process in processes.items():
        if process.poll() is None:
            print(f"{name} did not stop in time; killing it.", flush=True)
        # Also the group: a worker's pool processes outlive a killed parent otherwise.
        signal_group(process, signal.SIGKILL)
    for process in processes.values():
        process.wait()


def main() -> None:
    options = parse_args()
    instance = options.instance.resolve()
    instance.mkdir(exist_ok=True)
    web_url = f"http://127.0.0.1:{options.web_port}"
    sandbox_url = f"http://127.0.0.1:{options.sandbox_port}"
    env = dict(os.environ, PYTHONUNBUFFERED="1", RINGLY_INSTANCE_PATH=str(instance))
    # One secret for every process of the run: each gunicorn worker drew its own, so a paging
    # cursor one worker signed was a 422 at the next.
    env.setdefault("SECRET_KEY", secrets.token_hex(32))
    # One metrics folder for web and worker, so /metrics reports both; this run owns it (unless
    # the environment names one) and empties it before anything starts writing there.
    if "PROMETHEUS_MULTIPROC_DIR" not in env:
        env["PROMETHEUS_MULTIPROC_DIR"] = str(instance / "prometheus")
        shutil.rmtree(env["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
    # Readable lines in a terminal, even when the run points at real services (LOG_FORMAT=json
    # still wins when set).
    env.setdefault("LOG_FORMAT", "text")
    embedded_twilio = not env.get("TWILIO_ACCOUNT_SID")
    env.setdefault("WEBHOOK_BASE_URL", web_url)
    if embedded_twilio:
        env.setdefault("TWILIO_API_BASE_URL", sandbox_url)

    run_once([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], env)
    raw_key = development_key(env, instance)
    admin_email, admin_password = development_admin(env, instance)
    run_once([sys.executable, "-c", DECLARE_QUEUE], env)

    commands: dict[str, list[str]] = {}
    if embedded_twilio:
        commands["sandbox"] = [sys.executable, "-m", "ringly.sandbox", "--port",
                               str(options.sandbox_port), "--state-file",
                               str(instance / "sandbox-state.json")]
    commands["web"] = [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py",
                       "--bind", f"127.0.0.1:{options.web_port}", "wsgi:app"]
    commands["worker"] = [str(BIN / "celery"), "-A", "worker", "worker", "-l", "INFO",
                          "-c", str(options.worker_concurrency)]
    commands["beat"] = [str(BIN / "celery"), "-A", "worker", "beat", "-l", "INFO",
                        "-s", str(instance / "celerybeat-schedule")]
    # Each child leads its own process group, so stopping one reaches everything it started,
    # and a Ctrl-C in the terminal reaches only this supervisor, which stops them in order.
    processes = {name: subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
                 for name, cmd in commands.items()}

    def on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        if not wait_until_ready(f"{web_url}/readyz", processes, timeout=60):
            stop_all(processes)
            sys.exit("Ringly did not become ready; see the output above.")
        print(
            "\nRingly is running on the embedded default.\n"
            f"  API:          {web_url}/api   (docs: {web_url}/api/docs)\n"
            f"  OpenAPI:      {web_url}/api/openapi.json\n"
            f"  Readiness:    {web_url}/readyz   (metrics: {web_url}/metrics)\n"
            + (f"  Sandbox:      {sandbox_url}/sandbox/numbers\n" if embedded_twilio else "")
            + f"  Dev API key:  {raw_key}\n"
            f"  Console:      {web_url}/admin   (sign in as {admin_email} / {admin_password})\n"
            f"  Try:          curl -H 'Authorization: Bearer {raw_key}' {web_url}/api/me\n"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    raise SystemExit(f"{name} exited with code {process.returncode}; stopping.")
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nStopping Ringly…", flush=True)
    finally:
        stop_all(processes)


if __name__ == "__main__":
    main()
