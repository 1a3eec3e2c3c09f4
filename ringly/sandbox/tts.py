"""An ElevenLabs-compatible text-to-speech endpoint that returns tiny deterministic fake MP3s."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, current_app, g, jsonify, request

from ringly.sandbox.rest import finish_faults, run_faults

tts_api = Blueprint("tts_api", __name__, url_prefix="/v1")

# MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no padding: 417-byte frames, ~26 ms each.
FRAME_HEADER = bytes([0xFF, 0xFB, 0x90, 0x64])
FRAME_SIZE = 417
MAX_FRAMES = 200


def fake_mp3(voice_id: str, model_id: str, text: str) -> bytes:
    """ID3v2.3 header plus MPEG frames whose payload is derived from a hash of the request."""
    id3 = b"ID3" + bytes([3, 0, 0, 0, 0, 0, 0])  # version 2.3, no flags, empty tag
    frames = min(MAX_FRAMES, 1 + len(text) // 20)
    seed = hashlib.sha256(f"{voice_id}\0{model_id}\0{text}".encode()).digest()
    payload_size = FRAME_SIZE - len(FRAME_HEADER)
    audio = bytearray()
    for index in range(frames):
        block = b""
        counter = 0
        while len(block) < payload_size:
            block += hashlib.sha256(seed + index.to_bytes(4, "big") + bytes([counter])).digest()
            counter += 1
        audio += FRAME_HEADER + block[:payload_size]
    return id3 + bytes(audio)


def _unauthorized(message: str) -> Response:
    response = jsonify({"detail": {"status": "invalid_api_key", "message": message}})
    response.status_code = 401
    return response


@tts_api.before_request
def check_api_key_and_inject_faults() -> Response | None:
    expected = current_app.config.get("SANDBOX_ELEVENLABS_API_KEY")
    given = request.headers.get("xi-api-key")
    if not given:
        return _unauthorized("Missing xi-api-key header.")
    if expected and given != expected:
        return _unauthorized("Invalid API key.")
    return run_faults("tts")


@tts_api.teardown_request
def release_fault_slot(_exc: BaseException | None) -> None:
    if "fault_decision" in g:
        finish_faults()


@tts_api.post("/text-to-speech/<voice_id>")
@tts_api.post("/text-to-speech/<voice_id>/stream")
def text_to_speech(voice_id: str) -> Response:
    body = request.get_json(silent=True)
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        response = jsonify(
            {"detail": [{"loc": ["body", "text"], "msg": "field required", "type": "missing"}]}
        )
        response.status_code = 422
        return response
    model_id = str(body.get("model_id") or "eleven_multilingual_v2")
    audio = fake_mp3(voice_id, model_id, text)
    return Response(audio, mimetype="audio/mpeg", headers={"request-id": audio[10:26].hex()})
