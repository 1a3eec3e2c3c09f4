"""Every model, imported once so Alembic and the app see the whole schema."""
from ringly.admin.models import AdminSession, AdminUser, ApiKey, AuditEvent
from ringly.booking.models import Appointment
from ringly.clients.models import Client
from ringly.events.models import Event, EventDelivery, EventEndpoint
from ringly.health import WorkerHeartbeat
from ringly.messaging.models import Message
from ringly.provisioning.models import PhoneNumber, ProvisioningJob
from ringly.voice.models import AudioClip, Call

__all__ = [
    "AdminSession",
    "AdminUser",
    "ApiKey",
    "Appointment",
    "AudioClip",
    "AuditEvent",
    "Call",
    "Client",
    "Event",
    "EventDelivery",
    "EventEndpoint",
    "Message",
    "PhoneNumber",
    "ProvisioningJob",
    "WorkerHeartbeat",
]
