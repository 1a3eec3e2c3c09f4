"""The provisioning fixtures, for tests that act on a client's number."""
from tests.provisioning.conftest import prov  # noqa: F401
