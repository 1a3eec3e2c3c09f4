"""Voice tasks: rendering lines with ElevenLabs into the shared audio cache."""
from celery import shared_task

from ringly import tasks
from ringly.voice import rendering
from ringly.voice.tts import RenderFailed, audio_library


@shared_task(name=tasks.RENDER_LINE, bind=True, acks_late=True, max_retries=3)
def render_line(self, text: str, locale: str) -> None:
    library = audio_library()
    try:
        library.render(text, locale)
    except RenderFailed as exc:
        if library.breaker_open() or not library.enabled:
            return  # the next call that needs the line queues it again once the breaker closes
        raise self.retry(exc=exc, countdown=min(300, 10 * 2 ** self.request.retries)) from exc


@shared_task(name=tasks.RENDER_CLIENT_PROMPTS, bind=True, acks_late=True,
             max_retries=5)
def render_client_prompts(self, client_id: int) -> int:
    try:
        return rendering.render_client_prompts(client_id)
    except RenderFailed as exc:
        raise self.retry(exc=exc, countdown=min(600, 30 * 2 ** self.request.retries)) from exc
