"""The one way a TwiML document leaves Ringly: built by the twilio library, served as text/xml."""
from __future__ import annotations

from flask import Response
from twilio.twiml import TwiML


def twiml(document: TwiML | str) -> Response:
    """Serve a TwiML document; the body starts with `<?xml` (Twilio rejects anything else)."""
    body = document if isinstance(document, str) else str(document)
    return Response(body, status=200, mimetype="text/xml")
