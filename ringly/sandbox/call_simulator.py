"""Simulate an inbound call like Twilio: signed webhooks, TwiML, fallback, status callback."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from ringly.sandbox.resources import API_VERSION, new_sid, rfc2822_now
from ringly.sandbox.twiml_verbs import TwimlFetchError, execute_document
from ringly.telephony.signatures import sign_request

WEBHOOK_TIMEOUT_S = 15.0  # Twilio gives a webhook 15 s in total
APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."


@dataclass
class CallRun:
    """Everything a simulated call produced; ``answer()`` is the JSON the API returns."""

    call_sid: str
    to: str
    from_: str
    inputs: list[dict[str, Any]]
    status: str = "in-progress"
    transcript: list[dict[str, Any]] = field(default_factory=list)
    heard: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def answer(self) -> dict[str, Any]:
        return {
            "call_sid": self.call_sid,
            "to": self.to,
            "from": self.from_,
            "status": self.status,
            "transcript": self.transcript,
            "heard": self.heard,
            "errors": self.errors,
        }


class CallSimulator:
    """Plays one call against the webhooks of an owned number (a sandbox number resource)."""

    def __init__(
        self, *, account_sid: str, auth_token: str, number: dict[str, Any], sandbox_url: str
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.number = number
        self.sandbox_url = sandbox_url.rstrip("/")
        self.http = requests.Session()

    def base_params(self, run: CallRun) -> dict[str, str]:
        return {
            "CallSid": run.call_sid,
            "AccountSid": self.account_sid,
            "From": run.from_,
            "To": run.to,
            "Caller": run.from_,
            "Called": run.to,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "ApiVersion": API_VERSION,
        }

    # -- HTTP ----------------------------------------------------------------------------

    def request(
        self, run: CallRun, url: str, method: str, params: dict[str, str]
    ) -> requests.Response:
        """Send a signed webhook like Twilio (POST form, or GET with the params in the query)."""
        method = method.upper() if method.upper() in ("GET", "POST") else "POST"
        target, data = url, params
        if method == "GET":
            # GET webhooks carry the params in the query and are signed over the full URL.
            target = f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params)}"
            data = {}
        headers = {"X-Twilio-Signature": sign_request(self.auth_token, target, data)}
        started = time.monotonic()
        try:
            response = self.http.request(
                method, target, data=data or None, headers=headers, timeout=WEBHOOK_TIMEOUT_S
            )
        except requests.RequestException as error:
            elapsed = round((time.monotonic() - started) * 1000)
            run.transcript.append({"request": url, "status": None, "ms": elapsed})
            code = 11205 if isinstance(error, requests.Timeout) else 11200
            raise TwimlFetchError(code, f"{type(error).__name__}: {error}") from None
        elapsed = round((time.monotonic() - started) * 1000)
        run.transcript.append({"request": url, "status": response.status_code, "ms": elapsed})
        return response

    def fetch_twiml(
        self, run: CallRun, url: str, method: str, params: dict[str, str]
    ) -> ET.Element:
        response = self.request(run, url, method, params)
        if not 200 <= response.status_code < 300:
            raise TwimlFetchError(11200, f"HTTP {response.status_code} from {url}")
        text = response.text
        # Twilio rejects a document with anything (even whitespace) before the declaration.
        if not text.startswith("<?xml"):
            raise TwimlFetchError(12100, "Document parse failure: content before <?xml")
        try:
            root = ET.fromstring(text.encode())
        except ET.ParseError as error:
            raise TwimlFetchError(12100, f"Document parse failure: {error}") from None
        if root.tag != "Response":
            raise TwimlFetchError(12100, f"Root element is <{root.tag}>, not <Response>")
        return root

    # -- the call ------------------------------------------------------------------------

    def run(self, run: CallRun, max_steps: int = 50) -> CallRun:
        params = self.base_params(run)
        voice_url = self.number.get("voice_url") or ""
        document, url = None, voice_url
        try:
            if not voice_url:
                raise TwimlFetchError(11200, "The number has no voice_url")
            document = self.fetch_twiml(
                run, voice_url, self.number.get("voice_method", "POST"), params
            )
        except TwimlFetchError as error:
            run.errors.append({"code": error.code, "url": voice_url, "message": str(error)})
            fallback = self.number.get("voice_fallback_url") or ""
            if fallback:
                url = fallback
                try:
                    document = self.fetch_twiml(
                        run,
                        fallback,
                        self.number.get("voice_fallback_method", "POST"),
                        {**params, "ErrorCode": str(error.code), "ErrorUrl": voice_url},
                    )
                except TwimlFetchError as fallback_error:
                    run.errors.append(
                        {
                            "code": fallback_error.code,
                            "url": fallback,
                            "message": str(fallback_error),
                        }
                    )
        if document is None:
            run.heard.append(APPLICATION_ERROR)
            run.status = "failed"
        else:
            self.follow(run, document, url, max_steps)
        self.post_status_callback(run)
        return run

    def follow(self, run: CallRun, document: ET.Element, url: str, max_steps: int) -> None:
        steps = 0
        while document is not None:
            steps += 1
            if steps > max_steps:
                run.errors.append({"code": None, "url": url, "message": "max_steps exceeded"})
                break
            next_request = execute_document(self, run, document, url)
            if next_request is None:
                break
            url, method, extra = next_request
            try:
                document = self.fetch_twiml(run, url, method, {**self.base_params(run), **extra})
            except TwimlFetchError as error:
                run.errors.append({"code": error.code, "url": url, "message": str(error)})
                run.heard.append(APPLICATION_ERROR)
                break
        if run.status == "in-progress":
            run.status = "completed"

    def post_status_callback(self, run: CallRun) -> None:
        callback = self.number.get("status_callback") or ""
        if not callback:
            return
        params = {
            **self.base_params(run),
            "CallStatus": run.status,
            "CallDuration": str(max(1, round(run.seconds))),
            "Timestamp": rfc2822_now(),
            "CallbackSource": "call-progress-events",
            "SequenceNumber": "0",
        }
        try:
            self.request(run, callback, self.number.get("status_callback_method", "POST"), params)
        except TwimlFetchError as error:
            run.errors.append({"code": error.code, "url": callback, "message": str(error)})

    def recording_url(self, recording_sid: str) -> str:
        return f"{self.sandbox_url}/sandbox/recordings/{recording_sid}"


def new_call_sid() -> str:
    return new_sid("CA")
