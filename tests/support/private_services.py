"""A private redis-server and a private PostgreSQL cluster, each on a free loopback port, that a
chaos test or `make load` may stop and restart without disturbing anyone else's."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2

from tests.support.wsgi_server import free_port


def _wait_for_port(port: int, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not start listening on port {port}")


class PrivateRedis:
    """A non-persistent redis-server of its own: stopping it loses what it held (queued tasks
    included), as a crashed broker without persistence would."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, "redis-server", timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def postgres_bin() -> Path:
    """The newest PostgreSQL server binaries installed (PG_BIN overrides)."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                   key=lambda path: int(Path(path).parent.name.split(".")[0]))
    if not found:
        raise RuntimeError("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin; "
                           "set PG_BIN to the folder holding initdb and pg_ctl")
    return Path(found[-1])


class PrivatePostgres:
    """A PostgreSQL cluster of its own (`initdb` and `pg_ctl` in a temporary folder, trust
    authentication, listening on 127.0.0.1 at a free port), with one database, `ringly`.

    The shared server on 5432 is never touched. PostgreSQL refuses to run as root, so as root
    the cluster belongs to the `postgres` user and its commands run through `runuser`."""

    def __init__(self) -> None:
        # Its own folder straight under the temporary directory: the postgres user must be able
        # to reach it, which a folder inside root's private temporary folders would not allow.
        self.directory = Path(tempfile.mkdtemp(prefix="ringly-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"
        self.port = free_port()
        self.bin = postgres_bin()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/ringly"
        self._as_postgres = os.geteuid() == 0

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_postgres else []
        done = subprocess.run([*prefix, *command], capture_output=True, text=True)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
        return done

    def create(self) -> PrivatePostgres:
        """initdb, start, and create the `ringly` database."""
        if self._as_postgres:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "-A", "trust", "-E", "UTF8", "--no-sync")
        self.start()
        connection = psycopg2.connect(self.url.rsplit("/", 1)[0] + "/postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("CREATE DATABASE ringly")
        connection.close()
        return self

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
                   "-c max_connections=200")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                  "-o", options, "-w", "-t", "60", "start")
        _wait_for_port(self.port, "PostgreSQL")

    def stop(self, mode: str = "fast") -> None:
        """`fast` ends every session and checkpoints (a restart); `immediate` is a crash, the
        next start replays the write-ahead log."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60",
                  "stop", check=False)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)
