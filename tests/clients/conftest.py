"""The provisioning fixtures, shared with the client routes' tests."""
from tests.provisioning.conftest import prov, sent_tasks, voice_entry_available  # noqa: F401
