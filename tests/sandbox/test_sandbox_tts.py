"""The ElevenLabs-compatible text-to-speech endpoint: auth, deterministic audio, faults."""

from __future__ import annotations

import pytest
import requests


def speak(sandbox, text: str, *, key: str | None = "test-key", voice: str = "rachel"):
    headers = {"xi-api-key": key} if key else {}
    return requests.post(
        f"{sandbox.url}/v1/text-to-speech/{voice}",
        json={"text": text, "model_id": "eleven_multilingual_v2", "voice_settings": {}},
        headers=headers,
        timeout=5,
    )


def test_tts_returns_deterministic_mp3_bytes(sandbox):
    first = speak(sandbox, "Hello, thanks for calling Bella's Salon.")
    assert first.status_code == 200 and first.headers["Content-Type"] == "audio/mpeg"
    assert first.content.startswith(b"ID3") and first.content[10:12] == b"\xff\xfb"
    assert speak(sandbox, "Hello, thanks for calling Bella's Salon.").content == first.content
    assert speak(sandbox, "Hola, gracias por llamar.", voice="lina").content != first.content


def test_tts_without_api_key_is_401(sandbox):
    assert speak(sandbox, "hi", key=None).status_code == 401


def test_tts_without_text_is_422(sandbox):
    response = requests.post(
        f"{sandbox.url}/v1/text-to-speech/rachel", json={}, headers={"xi-api-key": "k"}, timeout=5
    )
    assert response.status_code == 422


def test_tts_honours_faults_under_operation_tts_only(sandbox):
    sandbox.set_faults(rate_503=1.0, only=["tts"])
    assert speak(sandbox, "hi").status_code == 503
    sandbox.set_faults(rate_drop=1.0, only=["tts"])
    with pytest.raises(requests.ConnectionError):
        speak(sandbox, "hi")
    sandbox.set_faults(rate_500=1.0, only=["search"])
    assert speak(sandbox, "hi").status_code == 200
