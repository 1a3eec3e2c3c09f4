"""Past one machine: audio in the database is served by any web process, its eviction and played
marks work there too, and the ElevenLabs breaker one process opens is open for every other."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
import sqlalchemy as sa
from flask import Flask

from ringly import create_app
from ringly.config import ConfigurationError, load_config
from ringly.db import db, utcnow
from ringly.queue import shared_redis_url
from ringly.voice import audio_store
from ringly.voice.audio_store import DatabaseStore
from ringly.voice.breaker import FileBreaker, RedisBreaker, make_breaker
from ringly.voice.lines import client_lines, static_lines
from ringly.voice.models import AudioClip
from ringly.voice.rendering import RECENTLY_PLAYED_S, render_client_prompts, trim_audio_cache
from ringly.voice.tts import RenderFailed, audio_library
from tests.support.web import WebProcess
from tests.voice.conftest import Phone, make_client

ROOT = Path(__file__).resolve().parents[2]
DAY = 86400.0
KB = 1024
MENU = ("For English, press 1 or say English.", "en")
CLIPS = AudioClip.__table__


@pytest.fixture
def voiced_env(service_env, sandbox) -> dict[str, str]:
    """What a web or worker host needs for ElevenLabs audio: no AUDIO_CACHE_DIR, no shared disk."""
    return {**service_env, "ELEVENLABS_API_KEY": "sandbox-key",
            "ELEVENLABS_API_BASE_URL": sandbox.url, "AUDIO_STORE": "database",
            "CELERY_QUEUE": f"ringly-audio-{uuid.uuid4().hex[:8]}"}


@pytest.fixture
def make_web_app(app, voiced_env, tmp_path) -> Iterator[Callable[..., Flask]]:
    """In-process web apps on the session's database, each with its own instance folder."""
    made: list[Flask] = []

    def make(name: str = "a", **config: object) -> Flask:
        web = create_app({"ENVIRON": voiced_env, "INSTANCE_PATH": str(tmp_path / name),
                          **config})
        made.append(web)
        return web

    yield make
    for web in made:
        with web.app_context():
            db.session.remove()
            db.engine.dispose()


class RemoteHttp:
    """The Flask test client's `post` over real HTTP, so `Phone` can call another process."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def post(self, path: str, data: dict[str, str], headers: dict[str, str]) -> SimpleNamespace:
        response = self.session.post(self.base_url + path, data=data, headers=headers, timeout=15)
        return SimpleNamespace(status_code=response.status_code, data=response.content,
                               mimetype=response.headers.get("Content-Type", "").split(";")[0])


def _mp3_files(folder: Path) -> list[Path]:
    return list(folder.rglob("*.mp3")) if folder.exists() else []


def _set_played(app: Flask, line_hash: str, age: float | None, created_age: float = 0.0) -> None:
    now = utcnow()
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(CLIPS.update().where(CLIPS.c.hash == line_hash).values(
            created_at=now - timedelta(seconds=created_age),
            last_played_at=None if age is None else now - timedelta(seconds=age)))


def _last_played(app: Flask, line_hash: str):
    with app.app_context(), db.engine.connect() as connection:
        return connection.execute(sa.select(CLIPS.c.last_played_at)
                                  .where(CLIPS.c.hash == line_hash)).scalar()


def _stored(app: Flask) -> set[str]:
    with app.app_context():
        return {clip.hash for clip in audio_library().store.entries()}


def _put(app: Flask, text: str, locale: str, *, size: int = KB,
         age: float | None = None) -> str:
    """A clip in the database for the line, last played `age` seconds ago (never: rendered
    `age` ago)."""
    with app.app_context():
        library = audio_library()
        line_hash = library.line_hash(text, locale)
        library.store.put(line_hash, locale, b"ID3" + b"\0" * (size - 3))
    _set_played(app, line_hash, age, created_age=age or 0.0)
    return line_hash


def _wait_until(condition: Callable[[], bool], what: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


@pytest.mark.e2e
def test_audio_rendered_through_one_web_process_is_served_by_another_that_never_rendered_it(
        make_web_app, voiced_env, tmp_path, sandbox):
    first = make_web_app("first-host")
    client_id = make_client(first, custom_greeting="Welcome to the smile studio.")
    with first.app_context():
        assert audio_library().store.kind == "database"
        assert render_client_prompts(client_id) > 0  # as a worker does after provisioning
        library = audio_library()
        menu_hash = library.line_hash(*MENU)
        rendered = library.audio_source(menu_hash).read()
    assert rendered.startswith(b"ID3")

    second = WebProcess(tmp_path / "second-host.log")
    second.start({**voiced_env, "WEBHOOK_BASE_URL": second.url,
                  "RINGLY_INSTANCE_PATH": str(tmp_path / "second-host")})
    try:
        token = first.config["TWILIO_AUTH_TOKEN"]
        phone = Phone(RemoteHttp(second.url), SimpleNamespace(config={
            "WEBHOOK_BASE_URL": second.url, "TWILIO_AUTH_TOKEN": token,
            "TWILIO_ACCOUNT_SID": first.config["TWILIO_ACCOUNT_SID"]}))
        phone.dial_in()
        phone.press("1")
        played = [url for url, kind in phone.heard if kind == "audio"]
        # The menu in both voices, then the client's own greeting: all from the database.
        assert len(played) >= 3, phone.heard
        assert all(url.startswith(f"{second.url}/audio/") for url in played)
        assert ("Welcome to the smile studio.", "en-US") not in phone.heard

        answer = requests.get(f"{second.url}/audio/{menu_hash}.mp3", timeout=10)
        assert answer.status_code == 200, second.log_tail()
        assert answer.headers["Content-Type"] == "audio/mpeg"
        assert answer.content == rendered
        assert "max-age=31536000" in answer.headers["Cache-Control"]
        assert answer.headers["ETag"] == f'"{menu_hash}"'
        again = requests.get(f"{second.url}/audio/{menu_hash}.mp3", timeout=10,
                             headers={"If-None-Match": answer.headers["ETag"]})
        assert again.status_code == 304
        for url in played:
            assert requests.get(url, timeout=10).status_code == 200
        assert requests.get(f"{second.url}/audio/{'0' * 64}.mp3", timeout=10).status_code == 404
    finally:
        second.stop()
    # Nothing went through a disk either host could share.
    assert _mp3_files(tmp_path / "first-host") == [] and _mp3_files(tmp_path / "second-host") == []


def test_a_webhook_asks_the_database_once_per_refresh_however_many_lines_are_missing(
        make_web_app, sandbox, monkeypatch):
    web = make_web_app()
    make_client(web)
    monkeypatch.setattr(audio_store, "KNOWN_REFRESH_S", 3600.0)
    statements: list[str] = []
    with web.app_context():
        sa.event.listen(db.engine, "before_cursor_execute",
                        lambda _c, _k, statement, *_a: statements.append(statement))
    for caller in ("+13125550171", "+13125550172", "+13125550173"):
        phone = Phone(web.test_client(), web, caller=caller)
        phone.dial_in()
        phone.press("1")
        assert not [kind for _, kind in phone.heard if kind == "audio"]  # nothing rendered
    assert len([s for s in statements if "audio_clips" in s]) == 1


def test_a_webhook_plays_a_clip_another_process_rendered_since_it_last_looked(
        make_web_app, sandbox, monkeypatch):
    monkeypatch.setattr(audio_store, "KNOWN_REFRESH_S", 0.0)
    web, worker = make_web_app("web"), make_web_app("worker")
    make_client(web)
    first = Phone(web.test_client(), web)
    first.dial_in()
    assert [kind for _, kind in first.heard] == ["en-US", "es-US"]
    with worker.app_context():
        audio_library().render(*MENU)
    second = Phone(web.test_client(), web, caller="+13125550174")
    second.dial_in()
    assert [kind for _, kind in second.heard] == ["audio", "es-US"]


def test_playing_a_clip_marks_it_played_at_most_once_an_hour_per_process(make_web_app, sandbox):
    web = make_web_app()
    make_client(web)
    menu = _put(web, *MENU, age=20 * DAY)
    Phone(web.test_client(), web).dial_in()
    _wait_until(lambda: _last_played(web, menu) > utcnow() - timedelta(minutes=1),
                "the menu marked played")
    _set_played(web, menu, 30 * DAY)
    Phone(web.test_client(), web, caller="+13125550177").dial_in()
    # A clip played after that: marks are written in order, so once its mark is there, the
    # menu's second one would be too, had the process asked for it.
    sentinel = _put(web, "A line Twilio fetches.", "en", age=20 * DAY)
    assert web.test_client().get(f"/audio/{sentinel}.mp3").status_code == 200
    _wait_until(lambda: _last_played(web, sentinel) > utcnow() - timedelta(minutes=1),
                "the sentinel marked played")
    assert _last_played(web, menu) < utcnow() - timedelta(days=29)


def test_the_database_store_evicts_unplayed_clips_but_never_lines_in_use(make_web_app):
    web = make_web_app(AUDIO_CACHE_RETENTION_DAYS=30)
    active = make_client(web, custom_greeting="Welcome to the smile studio.")
    make_client(web, ringlypro_number="+13125550111", active=False,
                custom_greeting="We have closed for good.")
    with web.app_context():
        from ringly.clients.models import Client

        mine = client_lines(db.session.get(Client, active))
        db.session.remove()
    kept = {
        _put(web, *static_lines()[0], age=400 * DAY),  # a fixed line
        *(_put(web, text, locale, age=400 * DAY) for text, locale in mine),
        _put(web, "An old greeting, played last week.", "en", age=7 * DAY),
        _put(web, "Rendered yesterday, never played.", "en", age=None),
    }
    evicted = {
        _put(web, "An old greeting nobody played for a month.", "en", age=31 * DAY),
        _put(web, "We have closed for good.", "en", age=31 * DAY),  # inactive client
    }
    with web.app_context():
        result = trim_audio_cache()
    assert _stored(web) == kept
    assert result["evicted"] == len(evicted)


def test_over_the_cap_the_database_store_evicts_the_least_recently_played_first(make_web_app):
    web = make_web_app(AUDIO_CACHE_MAX_MB=10 * KB / 2**20)  # 10 KB
    make_client(web)
    in_use = _put(web, *static_lines()[0], size=4 * KB, age=10 * DAY)
    oldest = _put(web, "played ten days ago", "en", size=3 * KB, age=10 * DAY)
    older = _put(web, "played five days ago", "en", size=3 * KB, age=5 * DAY)
    old = _put(web, "played a day ago", "en", size=3 * KB, age=DAY)
    recent = _put(web, "played just now", "en", size=3 * KB, age=RECENTLY_PLAYED_S / 2)
    with web.app_context():
        trim_audio_cache()
    assert _stored(web) == {in_use, old, recent}
    assert oldest not in _stored(web) and older not in _stored(web)
    with web.app_context():
        assert audio_library().cache_bytes() == 10 * KB


def test_a_clip_played_after_the_eviction_listed_it_is_kept(make_web_app):
    web = make_web_app()
    line_hash = _put(web, "played long ago, and again just now", "en", age=400 * DAY)
    with web.app_context():
        store = audio_library().store
        (listed,) = [clip for clip in store.entries() if clip.hash == line_hash]
        _set_played(web, line_hash, 0.0, created_age=400 * DAY)
        assert store.evict(listed) is False
        assert store.exists(line_hash)


def test_two_workers_rendering_the_same_line_store_it_once(make_web_app, sandbox):
    one, other = make_web_app("one"), make_web_app("other")
    with one.app_context():
        line_hash = audio_library().line_hash(*MENU)
        audio_library().store.put(line_hash, "en", b"ID3 first")
    sandbox.set_faults(rate_500=1.0, only=["tts"])  # a request to ElevenLabs would fail
    with other.app_context():
        audio_library().store.put(line_hash, "en", b"ID3 second")  # lost the race: no error
        assert audio_library().render(*MENU) == line_hash  # stored already: nothing fetched
        assert audio_library().audio_source(line_hash).read() == b"ID3 first"


def test_the_audio_route_answers_404_for_a_clip_that_is_not_stored(make_web_app):
    web = make_web_app()
    http = web.test_client()
    assert http.get(f"/audio/{'a' * 64}.mp3").status_code == 404
    assert http.get("/audio/..%2f..%2fetc%2fpasswd.mp3").status_code == 404


def test_the_breaker_one_process_opens_is_open_in_another(make_web_app, voiced_env, sandbox):
    web = make_web_app(ELEVENLABS_BREAKER_COOLDOWN=120.0)
    with web.app_context():
        library = audio_library()
        assert isinstance(library.breaker, RedisBreaker)
        sandbox.set_faults(rate_500=1.0, only=["tts"])
        for n in range(web.config["ELEVENLABS_BREAKER_THRESHOLD"]):
            with pytest.raises(RenderFailed, match="answered 500"):
                library.render(f"line {n}", "en")
        assert library.breaker_open()
    # Another process (a worker or web host elsewhere) with the same settings and no shared disk.
    probe = ("from ringly import create_app; from ringly.voice.tts import AudioLibrary; "
             "import json; library = create_app().extensions['voice_audio']; "
             "print(json.dumps([library.breaker_open(), library.breaker.describe()]))")
    env = {**os.environ, **voiced_env, "RINGLY_INSTANCE_PATH": str(web.instance_path) + "-other"}
    answer = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, check=True,
                            capture_output=True, text=True, timeout=60)
    is_open, described = json.loads(answer.stdout.strip().splitlines()[-1])
    assert is_open is True, described
    assert "open for" in described
    # A success anywhere closes it for everyone.
    sandbox.clear_faults()
    with web.app_context():
        library.breaker.record_success()
    answer = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, check=True,
                            capture_output=True, text=True, timeout=60)
    assert json.loads(answer.stdout.strip().splitlines()[-1])[0] is False


def test_without_redis_the_breaker_is_a_file_in_the_audio_folder(tmp_path):
    settings = {"REDIS_KEY_PREFIX": "ringly:test", "ELEVENLABS_BREAKER_THRESHOLD": 2,
                "ELEVENLABS_BREAKER_COOLDOWN": 60.0}
    rabbit = {**settings, "CELERY_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//"}
    assert shared_redis_url(rabbit) is None
    breaker = make_breaker(rabbit, tmp_path)
    assert isinstance(breaker, FileBreaker)
    breaker.record_failure()
    breaker.record_failure()
    assert make_breaker(rabbit, tmp_path).is_open()  # another process on the same machine
    with_redis = {**rabbit, "REDIS_URL": "redis://127.0.0.1:6379/0"}
    assert shared_redis_url(with_redis) == "redis://127.0.0.1:6379/0"
    assert isinstance(make_breaker(with_redis, tmp_path), RedisBreaker)


def test_audio_store_defaults_to_the_database_on_postgresql_and_to_a_folder_on_sqlite(tmp_path):
    postgres = {"DATABASE_URL": "postgresql://u@db/ringly", "SECRET_KEY": "s",
                "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "t",
                "WEBHOOK_BASE_URL": "https://ringly.example.com",
                "CELERY_BROKER_URL": "amqp://guest:guest@rabbit//"}
    assert load_config(str(tmp_path), postgres)["AUDIO_STORE"] == "database"
    assert load_config(str(tmp_path), {})["AUDIO_STORE"] == "directory"
    assert load_config(str(tmp_path), {**postgres, "AUDIO_STORE": "directory"})[
        "AUDIO_STORE"] == "directory"
    with pytest.raises(ConfigurationError, match="AUDIO_STORE"):
        load_config(str(tmp_path), {**postgres, "AUDIO_STORE": "s3"})


def test_the_database_store_keeps_no_file(make_web_app, tmp_path, sandbox):
    web = make_web_app("nofiles")
    with web.app_context():
        assert isinstance(audio_library().store, DatabaseStore)
        audio_library().render("Hello there.", "en")
    assert _mp3_files(tmp_path / "nofiles") == []
