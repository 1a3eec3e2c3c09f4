"""Where rendered audio lives: in PostgreSQL, so any web host serves what any worker rendered, or
in a folder (AUDIO_STORE=directory: one machine, or a volume every host mounts).

Both stores answer the same questions: is a clip there (a webhook asks, and must not wait), its
bytes (GET /audio/<hash>.mp3), and, for the cache's eviction, when each clip was last played.
"""
from __future__ import annotations

import io
import logging
import math
import os
import queue
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Protocol

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from ringly.db import db, utcnow
from ringly.voice.models import AudioClip

log = logging.getLogger(__name__)

HASH_RE = re.compile(r"^[0-9a-f]{64}$")
CLIPS = AudioClip.__table__
# A web process asks the database for clips it does not know yet at most this often (only when
# a line it looks up is missing: a webhook never reads the database per line per request)...
KNOWN_REFRESH_S = 2.0
# ...re-reading the last minute's (a clip committed late, or by a host whose clock is behind)...
KNOWN_OVERLAP = timedelta(minutes=1)
# ...and reloads the whole list this often, forgetting evicted clips.
KNOWN_RELOAD_S = 600.0
# A .part or .tmp file this old was left by a rendering that died mid-write.
ABANDONED_AFTER_S = 3600


@dataclass(frozen=True)
class StoredClip:
    """A clip as the eviction sees it: no audio, just its size and when it was last played
    (or rendered, if never played)."""

    hash: str
    size: int
    played_at: datetime


class AudioStore(Protocol):
    kind: str

    def exists(self, line_hash: str) -> bool: ...
    def find_and_mark(self, line_hash: str) -> bool: ...
    def mark_played(self, line_hash: str) -> None: ...
    def source(self, line_hash: str) -> Path | BinaryIO | None: ...
    def put(self, line_hash: str, locale: str, audio: bytes) -> None: ...
    def entries(self) -> list[StoredClip]: ...
    def total_bytes(self) -> int: ...
    def evict(self, clip: StoredClip) -> bool: ...
    def remove_leftovers(self, now: float) -> None: ...


class DirectoryStore:
    """`<directory>/<hash>.mp3`; a file's mtime is when it was last played."""

    kind = "directory"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)

    def path_for(self, line_hash: str) -> Path:
        return self.directory / f"{line_hash}.mp3"

    def exists(self, line_hash: str) -> bool:
        return self.path_for(line_hash).is_file()

    def find_and_mark(self, line_hash: str) -> bool:
        """Whether the file is there, setting its mtime (played) in the same system call."""
        path = self.path_for(line_hash)
        try:
            os.utime(path)
        except FileNotFoundError:
            return False
        except OSError:  # a read-only mount: the file can still be played
            return path.is_file()
        return True

    def mark_played(self, line_hash: str) -> None:
        try:
            os.utime(self.path_for(line_hash))
        except OSError:
            pass  # evicted meanwhile, or a read-only mount

    def source(self, line_hash: str) -> Path | None:
        path = self.path_for(line_hash)
        return path if path.is_file() else None

    def put(self, line_hash: str, locale: str, audio: bytes) -> None:
        handle, temp = tempfile.mkstemp(dir=self.directory, suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(audio)
        # Atomic: a web process never serves half a file.
        os.replace(temp, self.path_for(line_hash))

    def entries(self) -> list[StoredClip]:
        clips = []
        with os.scandir(self.directory) as entries:
            for entry in entries:
                name, _, suffix = entry.name.partition(".")
                if suffix == "mp3" and HASH_RE.match(name):
                    try:
                        stat = entry.stat()
                    except FileNotFoundError:
                        continue  # evicted meanwhile
                    clips.append(StoredClip(name, stat.st_size,
                                            datetime.fromtimestamp(stat.st_mtime, UTC)))
        return clips

    def total_bytes(self) -> int:
        return sum(clip.size for clip in self.entries())

    def evict(self, clip: StoredClip) -> bool:
        path = self.path_for(clip.hash)
        try:
            # Played since the eviction looked (a second's slack: datetimes keep microseconds).
            if path.stat().st_mtime > clip.played_at.timestamp() + 1:
                return False
            os.remove(path)
        except FileNotFoundError:
            return False
        return True

    def remove_leftovers(self, now: float) -> None:
        with os.scandir(self.directory) as entries:
            for entry in entries:
                if entry.name.endswith((".part", ".tmp")):
                    try:
                        if now - entry.stat().st_mtime > ABANDONED_AFTER_S:
                            os.remove(entry.path)
                    except FileNotFoundError:
                        continue


class DatabaseStore:
    """The `audio_clips` table. A web process keeps the set of hashes it knows, so a webhook's
    lookup is a set lookup; a miss asks the database for newer clips at most every
    KNOWN_REFRESH_S. "Played" is written by a thread of the process, never by the webhook."""

    kind = "database"

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._known: set[str] = set()
        self._newest: datetime | None = None
        self._refreshed_at = -math.inf
        self._reloaded_at = -math.inf
        self._marks: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._writer_pid = 0
        self._writer_lock = threading.Lock()

    # -- lookups (webhook and audio route) ---------------------------------------------------
    def knows(self, line_hash: str) -> bool:
        """Whether this process knows the clip exists: a set lookup, and on a miss a query for
        the clips created since the last one (at most every KNOWN_REFRESH_S)."""
        if line_hash in self._known:
            return True
        now = time.monotonic()
        if now - self._refreshed_at < KNOWN_REFRESH_S:
            return False
        self._refreshed_at = now  # the process's other threads do not ask meanwhile
        try:
            self._refresh(now)
        except SQLAlchemyError:
            log.warning("could not read the audio clips' list; callers hear Polly", exc_info=True)
            return False
        return line_hash in self._known

    def _refresh(self, now: float) -> None:
        reload = self._newest is None or now - self._reloaded_at >= KNOWN_RELOAD_S
        query = sa.select(CLIPS.c.hash, CLIPS.c.created_at)
        if not reload:
            query = query.where(CLIPS.c.created_at >= self._newest - KNOWN_OVERLAP)
        # Its own connection: a failed read must not abort the webhook's transaction.
        with db.engine.connect() as connection:
            rows = connection.execute(query).all()
        hashes = {line_hash for line_hash, _ in rows}
        newest = max((created for _, created in rows), default=None)
        if reload:
            self._known, self._reloaded_at = hashes, now
        else:
            self._known.update(hashes)
        if newest is not None and (self._newest is None or newest > self._newest):
            self._newest = newest

    def exists(self, line_hash: str) -> bool:
        with db.engine.connect() as connection:
            found = connection.execute(
                sa.select(CLIPS.c.hash).where(CLIPS.c.hash == line_hash)).first() is not None
        if found:
            self._known.add(line_hash)
        else:
            self._known.discard(line_hash)
        return found

    def find_and_mark(self, line_hash: str) -> bool:
        # The set says it was there; one read says it still is (not evicted since): the caller
        # asks at most once an hour per clip, as the directory store touches a file.
        if not self.knows(line_hash):
            return False
        try:
            if not self.exists(line_hash):
                return False
        except SQLAlchemyError:
            log.warning("could not look an audio clip up; callers hear Polly", exc_info=True)
            return False
        self.mark_played(line_hash)
        return True

    def source(self, line_hash: str) -> BinaryIO | None:
        with db.engine.connect() as connection:
            audio = connection.execute(
                sa.select(CLIPS.c.bytes).where(CLIPS.c.hash == line_hash)).scalar()
        if audio is None:
            return None
        self._known.add(line_hash)
        return io.BytesIO(audio)

    # -- played marks (a thread per process) -------------------------------------------------
    def mark_played(self, line_hash: str) -> None:
        self._start_writer()
        self._marks.put(line_hash)

    def _start_writer(self) -> None:
        if self._writer_pid == os.getpid():
            return
        with self._writer_lock:
            if self._writer_pid != os.getpid():  # first use in this (perhaps forked) process
                self._marks = queue.SimpleQueue()
                threading.Thread(target=self._write_marks, name="audio-played-marks",
                                 daemon=True).start()
                self._writer_pid = os.getpid()

    def _write_marks(self) -> None:
        while True:
            batch = {self._marks.get()}
            while len(batch) < 500:
                try:
                    batch.add(self._marks.get_nowait())
                except queue.Empty:
                    break
            try:
                with self._app.app_context(), db.engine.begin() as connection:
                    connection.execute(CLIPS.update().where(CLIPS.c.hash.in_(sorted(batch)))
                                       .values(last_played_at=utcnow()))
            except Exception:
                # A lost mark only makes a clip look older to the eviction; lines in use are
                # never evicted, and the next call marks it again within the hour.
                log.warning("could not mark %d audio clips played", len(batch), exc_info=True)

    # -- rendering and eviction (workers, beat) ----------------------------------------------
    def put(self, line_hash: str, locale: str, audio: bytes) -> None:
        dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(CLIPS).values(
            hash=line_hash, locale=locale, bytes=audio, size=len(audio), created_at=utcnow(),
        ).on_conflict_do_nothing(index_elements=["hash"])  # two workers rendered the same line
        with db.engine.begin() as connection:
            connection.execute(statement)
        self._known.add(line_hash)

    def entries(self) -> list[StoredClip]:
        query = sa.select(CLIPS.c.hash, CLIPS.c.size,
                          sa.func.coalesce(CLIPS.c.last_played_at, CLIPS.c.created_at)
                          .label("played_at"))
        with db.engine.connect() as connection:
            return [StoredClip(*row) for row in connection.execute(query)]

    def total_bytes(self) -> int:
        with db.engine.connect() as connection:
            return int(connection.execute(
                sa.select(sa.func.coalesce(sa.func.sum(CLIPS.c.size), 0))).scalar())

    def evict(self, clip: StoredClip) -> bool:
        # Not if a web process marked it played since the eviction looked.
        played = sa.func.coalesce(CLIPS.c.last_played_at, CLIPS.c.created_at)
        with db.engine.begin() as connection:
            deleted = connection.execute(
                CLIPS.delete().where(CLIPS.c.hash == clip.hash, played <= clip.played_at))
        return deleted.rowcount == 1

    def remove_leftovers(self, now: float) -> None:
        """Nothing is ever half-written: a clip is one row, inserted in one transaction."""


def make_store(app: Flask, directory: Path) -> DirectoryStore | DatabaseStore:
    """The store AUDIO_STORE names (see ringly.config for its default)."""
    if app.config.get("AUDIO_STORE") == "directory":
        return DirectoryStore(directory)
    return DatabaseStore(app)
