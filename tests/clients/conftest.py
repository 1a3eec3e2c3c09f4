"""The provisioning fixtures, shared with the client routes' tests."""
from tests.provisioning.conftest import prov  # noqa: F401
