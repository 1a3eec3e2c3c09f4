"""Signals a lower domain sends when a higher one may have work to do, so no import runs upward.

Receivers connect in their package's `init_app`; a signal's sender is the id it is about.
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# A client's static lines changed (provisioned, new greeting, name or hours): sender is the
# client id. Voice queues the render of those lines after the commit.
client_wording_changed = _signals.signal("client-wording-changed")

# Provisioning's check of a new number's voice URL made a request as an inbound call: sender is
# its CallSid. Voice marks that call row `verification` and finished, in the sender's
# transaction, so it stays out of the client's calls and usage.
verification_call_made = _signals.signal("verification-call-made")
