"""TwilioGateway: the one object in Ringly that talks to Twilio's REST API."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import requests
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from ringly import metrics
from ringly.telephony.exceptions import (
    InvalidPageToken,
    NumberNotFound,
    PermanentTelephonyError,
    TransientTelephonyError,
)
from ringly.telephony.failures import translate_failure
from ringly.telephony.http_client import GatewayHttpClient
from ringly.telephony.records import (
    available_number_from,
    incoming_number_from,
    sent_message_from,
)
from ringly.telephony.types import (
    WEBHOOK_METHOD,
    AvailableNumber,
    IncomingNumber,
    NumberPage,
    SentMessage,
    ServiceNumber,
    WebhookConfig,
)

NUMBER_TYPES = ("local", "toll_free", "mobile")
# Big pages keep whole-account scans to one request for most accounts.
FIND_PAGE_SIZE = 1000
# "Phone Number or Short Code is already in the Messaging Service" (HTTP 409).
ALREADY_IN_SERVICE = 21710


def _operation_name(operation: str) -> str:
    """An operation as metrics name it: its words without the SIDs ("fetch number PN…" is
    `fetch_number`), so there is one series per kind of request, not per number."""
    return "_".join(word for word in operation.split() if not any(c.isdigit() for c in word))


def _outcome(error: Exception) -> str:
    if isinstance(error, NumberNotFound):
        return "not_found"
    return "transient" if isinstance(error, TransientTelephonyError) else "permanent"


def _set_only(**params: Any) -> dict[str, Any]:
    return {name: value for name, value in params.items() if value is not None}


class TwilioGateway:
    """Search, buy, configure and release numbers, keep them in a Messaging Service and send
    SMS, raising only TelephonyError.

    Safe to share across threads and across fork(): the HTTP session is created lazily
    per process. Each method makes exactly one HTTP request, except the ones that follow
    paging (``find_numbers``, ``iter_numbers``), which make one per page.
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        base_url: str | None = None,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
        *,
        http_client: GatewayHttpClient | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.base_url = base_url
        # ``http_client`` lets tests and benchmarks observe traffic (e.g. count requests).
        self.http_client = http_client or GatewayHttpClient(
            base_url=base_url, connect_timeout=connect_timeout, read_timeout=read_timeout
        )
        # environment={} keeps TWILIO_EDGE/TWILIO_REGION from silently rerouting requests.
        self._client = Client(account_sid, auth_token, http_client=self.http_client, environment={})

    @contextmanager
    def _twilio_call(self, operation: str, *, mutating: bool = False, lookup: bool = False):
        try:
            yield
        except (TwilioException, requests.RequestException) as error:
            failure = translate_failure(
                error,
                operation=operation,
                mutating=mutating,
                lookup=lookup,
                last_response=self.http_client.last_response,
            )
            metrics.count_twilio_request(_operation_name(operation), _outcome(failure))
            raise failure from None
        metrics.count_twilio_request(_operation_name(operation), "ok")

    @property
    def _numbers(self):
        return self._client.api.v2010.account.incoming_phone_numbers

    # -- searching and buying ------------------------------------------------------------

    def search_available(
        self,
        *,
        country: str = "US",
        number_type: str = "local",
        area_code: str | int | None = None,
        contains: str | None = None,
        region: str | None = None,
        postal_code: str | None = None,
        locality: str | None = None,
        voice: bool | None = None,
        sms: bool | None = None,
        mms: bool | None = None,
        limit: int = 20,
    ) -> list[AvailableNumber]:
        """One page (one request) of numbers for sale, at most ``limit`` of them."""
        if number_type not in NUMBER_TYPES:
            raise ValueError(f"number_type must be one of {NUMBER_TYPES}")
        params = _set_only(
            area_code=area_code,
            contains=contains,
            in_region=region,
            in_postal_code=postal_code,
            in_locality=locality,
            voice_enabled=voice,
            sms_enabled=sms,
            mms_enabled=mms,
        )
        with self._twilio_call("search available numbers"):
            country_numbers = self._client.api.v2010.account.available_phone_numbers(country)
            listing = getattr(country_numbers, number_type)
            page = listing.page(page_size=limit, **params)
            return [available_number_from(record, number_type) for record in page]

    def purchase(
        self,
        *,
        phone_number: str | None = None,
        area_code: str | int | None = None,
        friendly_name: str,
        webhooks: WebhookConfig,
    ) -> IncomingNumber:
        """Buy ``phone_number`` (or any number in ``area_code``) with every webhook set."""
        if not phone_number and not area_code:
            raise ValueError("purchase needs a phone_number or an area_code")
        params = _set_only(
            phone_number=phone_number,
            area_code=None if phone_number else str(area_code),
            friendly_name=friendly_name,
            voice_url=webhooks.voice_url,
            voice_fallback_url=webhooks.voice_fallback_url,
            status_callback=webhooks.status_callback,
            sms_url=webhooks.sms_url,
        )
        with self._twilio_call("purchase number", mutating=True):
            created = self._numbers.create(
                voice_method=WEBHOOK_METHOD,
                voice_fallback_method=WEBHOOK_METHOD,
                status_callback_method=WEBHOOK_METHOD,
                sms_method=WEBHOOK_METHOD,
                **params,
            )
        return incoming_number_from(created)

    # -- one owned number ----------------------------------------------------------------

    def fetch_number(self, sid: str) -> IncomingNumber:
        with self._twilio_call(f"fetch number {sid}", lookup=True):
            return incoming_number_from(self._numbers(sid).fetch())

    def update_webhooks(
        self, sid: str, webhooks: WebhookConfig, *, friendly_name: str | None = None
    ) -> IncomingNumber:
        """Point every webhook at ``webhooks`` (an unset URL is cleared), all with POST."""
        params = _set_only(friendly_name=friendly_name)
        with self._twilio_call(f"update number {sid}", mutating=True, lookup=True):
            updated = self._numbers(sid).update(
                # "" clears a URL on Twilio's side, so stale webhooks cannot linger.
                voice_url=webhooks.voice_url or "",
                voice_method=WEBHOOK_METHOD,
                voice_fallback_url=webhooks.voice_fallback_url or "",
                voice_fallback_method=WEBHOOK_METHOD,
                status_callback=webhooks.status_callback or "",
                status_callback_method=WEBHOOK_METHOD,
                sms_url=webhooks.sms_url or "",
                sms_method=WEBHOOK_METHOD,
                **params,
            )
        return incoming_number_from(updated)

    def release(self, sid: str) -> None:
        """Give the number back to Twilio (NumberNotFound when it is already gone)."""
        with self._twilio_call(f"release number {sid}", mutating=True, lookup=True):
            self._numbers(sid).delete()

    # -- listing owned numbers -----------------------------------------------------------

    def find_numbers(
        self, *, friendly_name: str | None = None, phone_number: str | None = None
    ) -> list[IncomingNumber]:
        """Every owned number matching the filters (exact name; partial number, ``*`` = digit)."""
        params = _set_only(friendly_name=friendly_name, phone_number=phone_number)
        with self._twilio_call("find numbers"):
            records = self._numbers.list(page_size=FIND_PAGE_SIZE, **params)
            return [incoming_number_from(record) for record in records]

    def list_numbers_page(
        self, *, page_size: int = 50, page_token: str | None = None
    ) -> NumberPage:
        """One page of owned numbers; pass ``next_page`` back as ``page_token`` for the next."""
        with self._twilio_call("list numbers"):
            if page_token is None:
                page = self._numbers.page(page_size=page_size)
            else:
                page = self._numbers.get_page(self._page_url(page_token))
            numbers = [incoming_number_from(record) for record in page]
        return NumberPage(numbers=numbers, next_page=self._page_token(page.next_page_url))

    def iter_numbers(self, page_size: int = 100) -> Iterator[IncomingNumber]:
        """Every owned number, fetched page by page as the caller iterates."""
        with self._twilio_call("list numbers"):
            page = self._numbers.page(page_size=page_size)
        while page is not None:
            yield from (incoming_number_from(record) for record in page)
            with self._twilio_call("list numbers"):
                page = page.next_page()

    # Tokens wrap the next page's path+query. They are checked on the way back in so a
    # caller cannot steer our credentials at another Twilio resource.
    def _page_token(self, next_page_url: str | None) -> str | None:
        if not next_page_url:
            return None
        parts = urlsplit(next_page_url)
        relative = parts.path + (f"?{parts.query}" if parts.query else "")
        return base64.urlsafe_b64encode(relative.encode()).decode().rstrip("=")

    def _page_url(self, page_token: str) -> str:
        try:
            padded = page_token + "=" * (-len(page_token) % 4)
            relative = base64.urlsafe_b64decode(padded.encode()).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise InvalidPageToken("invalid page token", status=400) from None
        expected = f"/2010-04-01/Accounts/{self.account_sid}/IncomingPhoneNumbers.json"
        if urlsplit(relative).path != expected or not relative.startswith(expected):
            raise InvalidPageToken("invalid page token", status=400)
        return self._client.api.absolute_url(relative)

    # -- messaging -----------------------------------------------------------------------

    def find_messages(self, *, to: str, from_: str, limit: int = 200) -> list[SentMessage]:
        """Recent messages from one number to another (one request), to learn whether a send
        whose answer was lost went out after all."""
        with self._twilio_call("find messages"):
            records = self._client.api.v2010.account.messages.list(
                to=to, from_=from_, limit=limit, page_size=limit
            )
            return [sent_message_from(record) for record in records]

    def send_sms(
        self,
        *,
        to: str,
        from_: str,
        body: str,
        status_callback: str | None = None,
        messaging_service_sid: str | None = None,
    ) -> SentMessage:
        """Text ``to`` from ``from_``; with ``messaging_service_sid`` the text also goes through
        that Messaging Service (its A2P registration, opt-out handling), still from ``from_``."""
        params = _set_only(
            status_callback=status_callback, messaging_service_sid=messaging_service_sid
        )
        with self._twilio_call("send sms", mutating=True):
            return sent_message_from(
                self._client.api.v2010.account.messages.create(
                    to=to, from_=from_, body=body, **params
                )
            )

    # -- Messaging Services (messaging.twilio.com/v1) ----------------------------------------

    def _service_numbers(self, service_sid: str):
        return self._client.messaging.v1.services(service_sid).phone_numbers

    def add_to_messaging_service(self, service_sid: str, number_sid: str) -> bool:
        """Put an owned number in the service's sender pool; False when it was there already
        (Twilio's 21710), so adding twice is harmless."""
        try:
            with self._twilio_call(
                f"add number {number_sid} to messaging service {service_sid}", mutating=True
            ):
                self._service_numbers(service_sid).create(phone_number_sid=number_sid)
        except PermanentTelephonyError as error:
            if error.twilio_code == ALREADY_IN_SERVICE:
                return False
            raise
        return True

    def remove_from_messaging_service(self, service_sid: str, number_sid: str) -> bool:
        """Take a number out of the service's pool; False when it was not in it (404)."""
        try:
            with self._twilio_call(
                f"remove number {number_sid} from messaging service {service_sid}",
                mutating=True,
                lookup=True,
            ):
                self._service_numbers(service_sid)(number_sid).delete()
        except NumberNotFound:
            return False
        return True

    def list_messaging_service_numbers(self, service_sid: str) -> list[ServiceNumber]:
        """Every number in the service's pool (one request per 1000)."""
        with self._twilio_call(f"list numbers of messaging service {service_sid}"):
            records = self._service_numbers(service_sid).list(page_size=FIND_PAGE_SIZE)
            return [
                ServiceNumber(
                    sid=record.sid,
                    phone_number=record.phone_number,
                    service_sid=record.service_sid or service_sid,
                )
                for record in records
            ]
