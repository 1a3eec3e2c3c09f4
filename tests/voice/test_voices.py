"""Rachel's and Lina's ElevenLabs audio: cached, served safely, never awaited by a webhook."""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask

from ringly import create_app
from ringly.admin.scopes import SCOPES
from ringly.admin.services import create_api_key
from ringly.db import db
from ringly.voice.lines import static_lines
from ringly.voice.rendering import prompt_lines, render_client_prompts
from ringly.voice.tts import RenderFailed, audio_library
from tests.support.tasks import record_sent_tasks
from tests.support.worker import WorkerProcess
from tests.voice.conftest import Phone, make_client


@pytest.fixture
def voiced_env(service_env, sandbox, tmp_path) -> dict[str, str]:
    return {**service_env, "ELEVENLABS_API_KEY": "sandbox-key",
            "ELEVENLABS_API_BASE_URL": sandbox.url, "AUDIO_CACHE_DIR": str(tmp_path / "audio"),
            "CELERY_QUEUE": f"ringly-voice-{uuid.uuid4().hex[:8]}"}


@pytest.fixture
def voiced_app(app, voiced_env, tmp_path) -> Iterator[Flask]:
    """The same database as `app`, with ElevenLabs pointed at the sandbox."""
    voiced = create_app({"ENVIRON": voiced_env, "INSTANCE_PATH": str(tmp_path / "instance"),
                         "ELEVENLABS_BREAKER_COOLDOWN": 0.5})
    yield voiced
    with voiced.app_context():
        db.session.remove()
        db.engine.dispose()


def _menu(root):
    return [(el.tag, el.text, el.get("voice")) for el in root.find("Gather")]


def test_uncached_lines_are_spoken_by_polly_then_played_once_rendered(voiced_app, sandbox):
    make_client(voiced_app)
    first = Phone(voiced_app.test_client(), voiced_app).dial_in()
    assert [tag for tag, _, _ in _menu(first)] == ["Say", "Say"]  # not waiting on ElevenLabs
    with voiced_app.app_context():
        library = audio_library()
        library.render("For English, press 1 or say English.", "en")
        library.render("Para español, oprima 2 o diga español.", "es")
    second = Phone(voiced_app.test_client(), voiced_app).dial_in()
    played = _menu(second)
    assert [tag for tag, _, _ in played] == ["Play", "Play"]
    assert all(url.startswith(voiced_app.config["WEBHOOK_BASE_URL"] + "/audio/")
               for _, url, _ in played)
    assert played[0][1] != played[1][1]  # Rachel and Lina are different voices


def test_audio_is_served_with_caching_headers_and_no_path_traversal(voiced_app, sandbox):
    with voiced_app.app_context():
        line_hash = audio_library().render("Hello there.", "en")
    http = voiced_app.test_client()
    response = http.get(f"/audio/{line_hash}.mp3")
    assert response.status_code == 200 and response.mimetype == "audio/mpeg"
    assert response.data.startswith(b"ID3")
    assert "max-age=31536000" in response.headers["Cache-Control"] and response.headers["ETag"]
    assert http.get(f"/audio/{line_hash}.mp3",
                    headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    for bad in ("..%2f..%2fetc%2fpasswd", "../" + line_hash, line_hash.upper(), "0" * 64,
                ".elevenlabs-breaker"):
        assert http.get(f"/audio/{bad}.mp3").status_code == 404


def test_repeated_failures_open_the_breaker_and_everything_stays_polly(voiced_app, sandbox):
    make_client(voiced_app)
    sandbox.set_faults(rate_500=1.0, only=["tts"])
    with voiced_app.app_context():
        library = audio_library()
        for n in range(3):
            with pytest.raises(RenderFailed, match="answered 500"):
                library.render(f"line {n}", "en")
        with pytest.raises(RenderFailed, match="circuit breaker open"):
            library.render("line 4", "en")
        assert library.breaker_open()
    root = Phone(voiced_app.test_client(), voiced_app).dial_in()
    assert [tag for tag, _, _ in _menu(root)] == ["Say", "Say"]
    sandbox.clear_faults()
    time.sleep(1.1)  # the cool-down (0.5 s here) and the per-process re-check (1 s)
    with voiced_app.app_context():
        assert not audio_library().breaker_open()
        audio_library().render("line 5", "en")


def test_client_prompts_render_every_static_line_in_both_voices(voiced_app, sandbox):
    client_id = make_client(voiced_app, custom_greeting="Welcome to the smile studio.")
    with voiced_app.app_context():
        from ringly.clients.models import Client

        lines = prompt_lines(db.session.get(Client, client_id))
        assert ("Welcome to the smile studio.", "en") in lines
        assert {locale for _, locale in lines} == {"en", "es"}
        assert set(static_lines()) <= set(lines)
        assert render_client_prompts(client_id) == len(lines)
        assert render_client_prompts(client_id) == 0  # cached: nothing is fetched again
    phone = Phone(voiced_app.test_client(), voiced_app)
    phone.dial_in()
    phone.press("1")
    assert [el.tag for el in phone.last.iter() if el.tag in ("Say", "Play")] == ["Play", "Play"]


@pytest.mark.e2e
def test_worker_renders_lines_queued_by_a_call(voiced_app, voiced_env, tmp_path, sandbox):
    make_client(voiced_app)
    worker = WorkerProcess(voiced_env, tmp_path / "worker.log", concurrency=2).start()
    try:
        first = Phone(voiced_app.test_client(), voiced_app).dial_in()
        assert [tag for tag, _, _ in _menu(first)] == ["Say", "Say"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            root = Phone(voiced_app.test_client(), voiced_app).dial_in()
            if [tag for tag, _, _ in _menu(root)] == ["Play", "Play"]:
                break
            time.sleep(0.2)
        assert [tag for tag, _, _ in _menu(root)] == ["Play", "Play"], worker.log_tail()
    finally:
        worker.stop()


def _api_headers(app: Flask) -> dict[str, str]:
    with app.app_context():
        # A client's settings are an admin's to change.
        _, raw_key = create_api_key(f"voices-{uuid.uuid4().hex[:6]}", SCOPES)
    return {"Authorization": f"Bearer {raw_key}"}


def test_new_greeting_queues_rendering_of_the_clients_prompts(voiced_app, monkeypatch):
    client_id = make_client(voiced_app)
    sent = record_sent_tasks(voiced_app, monkeypatch)
    response = voiced_app.test_client().patch(
        f"/api/clients/{client_id}", json={"custom_greeting": "Welcome to Bella's!"},
        headers=_api_headers(voiced_app))
    assert response.status_code == 200, response.json
    assert ("ringly.voice.render_client_prompts", (client_id,)) in sent


def test_without_elevenlabs_no_prompt_rendering_is_queued(app, client, api_headers, monkeypatch):
    client_id = make_client(app)
    sent = record_sent_tasks(app, monkeypatch)
    response = client.patch(f"/api/clients/{client_id}", json={"custom_greeting": "Hi!"},
                            headers=api_headers)
    assert response.status_code == 200, response.json
    assert not [name for name, _ in sent if name == "ringly.voice.render_client_prompts"]


def test_completed_provisioning_queues_rendering_of_the_new_clients_prompts(
    voiced_app, sandbox, monkeypatch
):
    from ringly.provisioning import saga
    from tests.provisioning.conftest import make_job

    sent = record_sent_tasks(voiced_app, monkeypatch)
    with voiced_app.app_context():
        job = make_job({"business_name": "Bella Salon", "email": "o@bella.example",
                        "country": "US", "areaCode": "415"})
        job_id, client_id = job.id, job.client_id
        assert saga.advance(job_id, verifier=lambda url, number: None) == "completed"
        db.session.remove()
    assert ("ringly.voice.render_client_prompts", (client_id,)) in sent


def _heard_in(root) -> list[tuple[str, str]]:
    """(tag, text or URL) of everything the caller hears in a document, in order."""
    return [(el.tag, el.text or "") for el in root.iter() if el.tag in ("Say", "Play")]


def _book_by_phone(app: Flask) -> Phone:
    phone = Phone(app.test_client(), app)
    phone.dial_in()
    phone.press("1")  # English
    phone.press("1")  # book
    phone.say("Maria Lopez")
    phone.press("1")  # the number calling
    phone.say("tomorrow at 10 am")
    phone.press("1")  # confirmed
    return phone


def _wait_for(sent: list, item: tuple, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while item not in sent and time.monotonic() < deadline:
        time.sleep(0.02)
    assert item in sent, sent


def test_lines_with_a_callers_data_are_polly_and_never_queued_for_rendering(
        voiced_app, sandbox, monkeypatch):
    make_client(voiced_app)
    sent = record_sent_tasks(voiced_app, monkeypatch)
    phone = _book_by_phone(voiced_app)
    assert "You're booked for" in phone.said_last()
    # A fixed line asked for last: the sender thread hands renderings over in order, so once it
    # is sent, everything the call asked for has been.
    with voiced_app.app_context():
        sentinel = audio_library().audio_url("Sorry, I didn't hear anything.", "en")
    assert sentinel is None
    _wait_for(sent, ("ringly.voice.render_line", ("Sorry, I didn't hear anything.", "en")))
    rendered = [args for name, args in sent if name == "ringly.voice.render_line"]
    assert rendered and set(rendered) <= set(static_lines())
    everything = repr(sent)
    for private in ("Maria", "I have", "booked", "10 AM", "+1312"):
        assert private not in everything


def test_once_rendered_only_fixed_and_client_lines_play_even_if_a_callers_line_is_cached(
        voiced_app, sandbox):
    client_id = make_client(voiced_app)
    with voiced_app.app_context():
        render_client_prompts(client_id)
        library = audio_library()
        # Audio of a line with a caller's data (left by an older version, say) is not played.
        from ringly.wording import prompt
        library.render(prompt("ask_phone", "en", name="Maria Lopez"), "en")
    phone = _book_by_phone(voiced_app)
    heard = [item for root in phone.documents for item in _heard_in(root)]
    played = [text for tag, text in heard if tag == "Play"]
    said = [text for tag, text in heard if tag == "Say"]
    assert len(played) >= 6  # menus, greeting, questions
    assert [text for text in said if "Maria Lopez" in text]
    assert [text for text in said if text.startswith("I have ")]
    assert [text for text in said if text.startswith("You're booked for")]
    assert len(said) == 3


def test_a_clients_own_line_not_rendered_yet_queues_the_clients_prompts(
        voiced_app, sandbox, monkeypatch):
    client_id = make_client(voiced_app, custom_greeting="Welcome to the smile studio.")
    sent = record_sent_tasks(voiced_app, monkeypatch)
    for caller in ("+13125550181", "+13125550182"):
        phone = Phone(voiced_app.test_client(), voiced_app, caller=caller)
        phone.dial_in()
        phone.press("1")
        assert ("Say", "Welcome to the smile studio.") in _heard_in(phone.last)
    _wait_for(sent, ("ringly.voice.render_client_prompts", (client_id,)))
    time.sleep(0.1)
    # Once a minute per process, however many calls ask.
    assert sent.count(("ringly.voice.render_client_prompts", (client_id,))) == 1


def test_the_render_line_task_refuses_any_line_that_is_not_fixed(voiced_app, sandbox):
    from ringly.voice.rendering import render_static_line

    with voiced_app.app_context():
        library = audio_library()
        private = "Thanks, Maria Lopez. Please enter or say your phone number."
        assert render_static_line(private, "en") is False
        assert not library.is_cached(library.line_hash(private, "en"))
        assert render_static_line("Sorry, I didn't hear anything.", "en") is True
