"""The audio cache stays bounded: unplayed files are evicted, never a line a prompt points at."""
from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from ringly import create_app
from ringly.db import db
from ringly.voice.lines import client_lines, static_lines
from ringly.voice.rendering import RECENTLY_PLAYED_S, trim_audio_cache
from ringly.voice.tts import CacheFull, audio_library
from tests.voice.conftest import Phone, make_client

DAY = 86400.0
KB = 1024


@pytest.fixture
def make_voiced_app(app, service_env, sandbox, tmp_path) -> Iterator[Callable[..., Flask]]:
    """Apps on the session's database with ElevenLabs pointed at the sandbox, keeping audio in a
    folder (the database store's eviction is in test_audio_store.py)."""
    made: list[Flask] = []

    def make(**config: object) -> Flask:
        env = {**service_env, "ELEVENLABS_API_KEY": "sandbox-key",
               "ELEVENLABS_API_BASE_URL": sandbox.url,
               "AUDIO_STORE": "directory", "AUDIO_CACHE_DIR": str(tmp_path / "audio"),
               "CELERY_QUEUE": f"ringly-audio-{uuid.uuid4().hex[:8]}"}
        voiced = create_app({"ENVIRON": env, "INSTANCE_PATH": str(tmp_path / "instance"),
                             **config})
        made.append(voiced)
        return voiced

    yield make
    for voiced in made:
        with voiced.app_context():
            db.session.remove()
            db.engine.dispose()


def _put(app: Flask, text: str, locale: str, *, size: int = KB, age: float = 0.0) -> str:
    """A file in the cache for the line, last played `age` seconds ago."""
    library = audio_library()
    line_hash = library.line_hash(text, locale)
    path = library.store.path_for(line_hash)
    path.write_bytes(b"ID3" + b"\0" * (size - 3))
    played = time.time() - age
    os.utime(path, (played, played))
    return line_hash


def _cached(app: Flask) -> set[str]:
    return {clip.hash for clip in audio_library().store.entries()}


def test_files_not_played_within_the_retention_are_evicted_but_never_lines_in_use(
        make_voiced_app):
    voiced = make_voiced_app(AUDIO_CACHE_RETENTION_DAYS=30)
    active = make_client(voiced, custom_greeting="Welcome to the smile studio.")
    make_client(voiced, ringlypro_number="+13125550111", active=False,
                custom_greeting="We have closed for good.")
    with voiced.app_context():
        from ringly.clients.models import Client

        mine = client_lines(db.session.get(Client, active))
        static_text, static_locale = static_lines()[0]
        kept = {
            _put(voiced, static_text, static_locale, age=400 * DAY),  # a fixed line
            *(_put(voiced, text, locale, age=400 * DAY) for text, locale in mine),
            _put(voiced, "An old greeting, played last week.", "en", age=7 * DAY),
        }
        evicted = {
            _put(voiced, "An old greeting nobody played for a month.", "en", age=31 * DAY),
            _put(voiced, "We have closed for good.", "en", age=31 * DAY),  # inactive client
        }
        result = trim_audio_cache()
        assert _cached(voiced) == kept
        assert result["evicted"] == len(evicted)


def test_over_the_cap_the_least_recently_played_go_first_but_not_one_played_just_now(
        make_voiced_app):
    voiced = make_voiced_app(AUDIO_CACHE_MAX_MB=10 * KB / 2**20)  # 10 KB
    make_client(voiced)
    with voiced.app_context():
        text, locale = static_lines()[0]
        in_use = _put(voiced, text, locale, size=4 * KB, age=10 * DAY)
        oldest = _put(voiced, "played ten days ago", "en", size=3 * KB, age=10 * DAY)
        older = _put(voiced, "played five days ago", "en", size=3 * KB, age=5 * DAY)
        old = _put(voiced, "played a day ago", "en", size=3 * KB, age=DAY)
        recent = _put(voiced, "played just now", "en", size=3 * KB,
                      age=RECENTLY_PLAYED_S / 2)
        trim_audio_cache()
        # 16 KB -> 10 KB: the two least recently played go; the cap is met.
        assert _cached(voiced) == {in_use, old, recent}
        assert oldest not in _cached(voiced) and older not in _cached(voiced)
        # Still over once only lines in use and just-played ones are left: those stay.
        _put(voiced, "played an hour ago", "en", size=6 * KB, age=RECENTLY_PLAYED_S / 2)
        result = trim_audio_cache()
        assert in_use in _cached(voiced) and recent in _cached(voiced)
        assert result["bytes"] > 10 * KB


def test_a_full_cache_renders_nothing_more(make_voiced_app):
    voiced = make_voiced_app(AUDIO_CACHE_MAX_MB=2 * KB / 2**20)
    with voiced.app_context():
        _put(voiced, "a big old line", "en", size=3 * KB)
        with pytest.raises(CacheFull):
            audio_library().render("Hello there.", "en")
        assert not audio_library().is_cached(audio_library().line_hash("Hello there.", "en"))


def test_abandoned_half_written_files_are_removed(make_voiced_app):
    voiced = make_voiced_app()
    with voiced.app_context():
        directory = audio_library().store.directory
        abandoned, writing = directory / "tmp1.part", directory / "tmp2.part"
        abandoned.write_bytes(b"ID3")
        writing.write_bytes(b"ID3")
        os.utime(abandoned, (time.time() - 2 * 3600,) * 2)
        trim_audio_cache()
        assert not abandoned.exists() and writing.exists()


def test_playing_a_line_marks_its_file_at_most_once_an_hour(make_voiced_app):
    voiced = make_voiced_app()
    make_client(voiced)
    with voiced.app_context():
        menu = "For English, press 1 or say English."
        line_hash = _put(voiced, menu, "en", age=20 * DAY)
        path = audio_library().store.path_for(line_hash)
    Phone(voiced.test_client(), voiced).dial_in()
    assert time.time() - path.stat().st_mtime < 60  # played: no longer a candidate
    month_ago = time.time() - 30 * DAY
    os.utime(path, (month_ago, month_ago))
    Phone(voiced.test_client(), voiced, caller="+13125550177").dial_in()
    # Within the hour the webhook does not touch the disk again for this line.
    assert path.stat().st_mtime == pytest.approx(month_ago)


def test_serving_audio_marks_the_file_played(make_voiced_app):
    voiced = make_voiced_app()
    with voiced.app_context():
        line_hash = _put(voiced, "A line Twilio fetches.", "en", age=20 * DAY)
        path = audio_library().store.path_for(line_hash)
    response = voiced.test_client().get(f"/audio/{line_hash}.mp3")
    assert response.status_code == 200
    assert time.time() - path.stat().st_mtime < 60
