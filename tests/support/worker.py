"""A real Celery worker process for end-to-end tests, which tests may kill and restart."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    """`celery -A worker worker` on the test session's own queue, logging to a file."""

    def __init__(self, env: dict[str, str], log_path: Path, concurrency: int = 4,
                 pool: str = "prefork") -> None:
        self.env = {**os.environ, **env}
        self.queue = env["CELERY_QUEUE"]
        self.log_path = log_path
        self.concurrency = concurrency
        self.pool = pool
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> WorkerProcess:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child process owns it
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "worker", "worker", "-Q", self.queue,
             "-c", str(self.concurrency), "-P", self.pool, "-l", "INFO", "-n",
             f"{self.queue}@%h", "--without-mingle", "--without-gossip"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited at start:\n{self.log_tail()}")
            with open(self.log_path, "rb") as handle:
                handle.seek(offset)
                if b" ready." in handle.read():
                    return self
            time.sleep(0.1)
        raise RuntimeError(f"worker not ready after {timeout}s:\n{self.log_tail()}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Kill the worker and its pool children at once, as a crashed machine would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
