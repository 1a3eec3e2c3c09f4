"""Twilio routes for outbound SMS: create (from a number or a Messaging Service), list, fetch."""

from __future__ import annotations

from flask import Response, jsonify, request

from ringly.sandbox.context import sandbox_context
from ringly.sandbox.errors import TwilioApiError, not_found
from ringly.sandbox.numbers import E164
from ringly.sandbox.resources import SERVICE_SID, message_resource
from ringly.sandbox.rest import operation, paged_envelope, twilio_api

MAX_BODY = 1600
MAGIC_FROM_OK = "+15005550006"
# Twilio test-credential magic numbers (TWILIO.md section 5).
NOT_OWNED = "The 'From' phone number {n} is not owned by your account or is not SMS-capable."
MAGIC_FROM_ERRORS = {
    "+15005550001": (21212, "The 'From' number {n} is not a valid phone number."),
    "+15005550007": (21606, NOT_OWNED),
    "+15005550008": (21611, "The 'From' number {n} has exceeded its queued-message limit."),
}
MAGIC_TO_ERRORS = {
    "+15005550001": (21211, "The 'To' number {n} is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number {n} is not currently reachable."),
    "+15005550003": (21408, "Permission to send an SMS is not enabled for the region of {n}."),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient {n}."),
    "+15005550009": (21614, "'To' number {n} is not a valid mobile number."),
}


def _check_from(from_: str) -> None:
    if from_ in MAGIC_FROM_ERRORS:
        code, text = MAGIC_FROM_ERRORS[from_]
        raise TwilioApiError(400, code, text.format(n=from_))
    if from_ == MAGIC_FROM_OK:
        return
    owned = sandbox_context().state.number_by_phone(from_)
    if owned is None or not owned["capabilities"].get("sms"):
        raise TwilioApiError(400, 21606, NOT_OWNED.format(n=from_))


def _check_to(to: str) -> None:
    if to in MAGIC_TO_ERRORS:
        code, text = MAGIC_TO_ERRORS[to]
        raise TwilioApiError(400, code, text.format(n=to))
    if not E164.match(to):
        raise TwilioApiError(400, 21211, f"The 'To' number {to} is not a valid phone number.")


def _sender(service_sid: str | None, from_: str) -> str:
    """The number the text goes out from: ``From``, else one from the service's pool."""
    if service_sid is None:
        if not from_:
            raise TwilioApiError(
                400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required."
            )
        return from_
    if not SERVICE_SID.match(service_sid):
        raise TwilioApiError(400, 21705, f"The Messaging Service Sid {service_sid} is invalid.")
    try:
        pool = sandbox_context().state.service_numbers(service_sid)
    except TwilioApiError:
        raise TwilioApiError(
            400, 21705, f"The Messaging Service Sid {service_sid} is invalid."
        ) from None
    if from_:
        # A From outside the service is only a warning at Twilio (21711): the text still
        # goes out from it, and is judged by carriers as that number's own.
        return from_
    if not pool:
        raise TwilioApiError(400, 21704, "The Messaging Service contains no phone numbers.")
    return pool[0]["number"]["phone_number"]


@twilio_api.post("/Accounts/<account_sid>/Messages.json")
@operation("message")
def create_message(account_sid: str) -> Response:
    form = request.form
    to = form.get("To", "").strip()
    service_sid = form.get("MessagingServiceSid", "").strip() or None
    body = form.get("Body", "")
    if not to:
        raise TwilioApiError(400, 21604, "A 'To' phone number is required.")
    from_ = _sender(service_sid, form.get("From", "").strip())
    _check_from(from_)
    _check_to(to)
    if not body:
        raise TwilioApiError(400, 21602, "Message body is required.")
    if len(body) > MAX_BODY:
        raise TwilioApiError(
            400, 21617, "The concatenated message body exceeds the 1600 character limit."
        )
    ctx = sandbox_context()
    resource = ctx.state.add_message(
        lambda sid: message_resource(
            account_sid=ctx.account_sid,
            sid=sid,
            to=to,
            from_=from_,
            body=body,
            messaging_service_sid=service_sid,
        ),
        status_callback=form.get("StatusCallback", "").strip() or None,
    )
    response = jsonify(resource)
    response.status_code = 201
    return response


@twilio_api.get("/Accounts/<account_sid>/Messages.json")
@operation("message")
def list_messages(account_sid: str) -> Response:
    messages = sandbox_context().state.messages()
    filters: dict[str, str] = {}
    for param, field in (("To", "to"), ("From", "from")):
        value = request.args.get(param)
        if value:
            filters[param] = value
            messages = [m for m in messages if m[field] == value]
    return jsonify(paged_envelope(messages, "messages", filters))


@twilio_api.get("/Accounts/<account_sid>/Messages/<sid>.json")
@operation("message")
def fetch_message(account_sid: str, sid: str) -> Response:
    for message in sandbox_context().state.messages():
        if message["sid"] == sid:
            message.pop("_seq")
            return jsonify(message)
    raise not_found(f"The requested resource /Messages/{sid}.json was not found")
