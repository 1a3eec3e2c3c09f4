"""Events: what happened, recorded with the change that caused it, and delivered signed.

Domains call `events.emit(type, data, client_id=...)` inside their own transaction."""
from ringly.events.services import EVENT_TYPES, emit

__all__ = ["EVENT_TYPES", "emit"]
