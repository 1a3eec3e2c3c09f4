"""The provisioning fixtures, shared with the client routes' tests."""
from tests.provisioning.conftest import prov, voice_entry_available  # noqa: F401
