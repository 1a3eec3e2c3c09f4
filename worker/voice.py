"""Voice tasks: rendering lines with ElevenLabs into the shared audio cache, and trimming it."""
import logging

from celery import shared_task

from ringly import tasks
from ringly.queue import retry_delay
from ringly.voice import rendering
from ringly.voice.tts import CacheFull, RenderFailed, audio_library

log = logging.getLogger(__name__)


@shared_task(name=tasks.RENDER_LINE, bind=True, acks_late=True, max_retries=3)
def render_line(self, text: str, locale: str) -> None:
    library = audio_library()
    try:
        rendering.render_static_line(text, locale)
    except CacheFull as exc:
        # Retrying cannot help before the cache is trimmed; callers hear Polly meanwhile.
        log.warning("not rendering a line: %s", exc)
    except RenderFailed as exc:
        if library.breaker_open() or not library.enabled:
            return  # the next call that needs the line queues it again once the breaker closes
        raise self.retry(exc=exc, countdown=retry_delay(10 * 2 ** self.request.retries)) from exc


@shared_task(name=tasks.RENDER_CLIENT_PROMPTS, bind=True, acks_late=True,
             max_retries=5)
def render_client_prompts(self, client_id: int) -> int:
    try:
        return rendering.render_client_prompts(client_id)
    except CacheFull as exc:
        log.warning("not rendering client %s's prompts: %s", client_id, exc)
        return 0
    except RenderFailed as exc:
        raise self.retry(exc=exc, countdown=retry_delay(30 * 2 ** self.request.retries)) from exc


@shared_task(name=tasks.TRIM_AUDIO_CACHE, acks_late=True)
def trim_audio_cache() -> dict[str, int]:
    return rendering.trim_audio_cache()
