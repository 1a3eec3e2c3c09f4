"""Numbers: every number on the account with its owner and reconciliation's flags; repairing a
client's webhooks and releasing its number (after a confirmation that says what is lost)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Response, redirect, request, url_for

from ringly.booking.models import Appointment
from ringly.clients.services import get_client
from ringly.console.blueprint import bp, page
from ringly.db import db, utcnow
from ringly.errors import NotFound, RinglyError
from ringly.provisioning import client_numbers
from ringly.provisioning.lifecycle import number_by_sid
from ringly.provisioning.models import PhoneNumber
from ringly.provisioning.overview import number_overview
from ringly.telephony import TelephonyError
from ringly.voice.models import Call

NOTICES = {"repaired": "Webhooks repaired: the number's URLs are Ringly's again.",
           "released": "The number was released.", "quarantined": "The number is quarantined."}


@bp.get("/numbers")
def numbers() -> Response:
    try:
        found, error = number_overview(), None
    except TelephonyError as failure:
        found, error = None, f"Twilio could not be asked: {failure.message}"
    return page("numbers.html", status=200 if error is None else 503, found=found, error=error,
                notice=NOTICES.get(request.args.get("notice", "")))


def _owned(sid: str) -> PhoneNumber:
    """The number, if it is a client's: only a client's number is repaired or released here
    (orphans and untracked numbers are reconciliation's to settle)."""
    number = number_by_sid(sid)
    if number is None or number.client_id is None or \
            get_client(number.client_id).twilio_number_sid != sid:
        raise NotFound(f"{sid} is not a client's number")
    return number


@bp.post("/numbers/<sid>/repair")
def repair_webhooks(sid: str) -> Response:
    try:
        client_numbers.update_client_webhooks(_owned(sid).client_id)  # PUT .../webhooks
    except RinglyError as error:
        return page("error.html", status=409, title="Not repaired", detail=error.detail)
    return redirect(request.form.get("back") if request.form.get("back", "").startswith(
        "/admin/clients/") else url_for("console.numbers", notice="repaired"))


@bp.get("/numbers/<sid>/release")
def confirm_release(sid: str) -> Response:
    number = _owned(sid)
    client_id, now = number.client_id, utcnow()
    upcoming = db.session.scalar(sa.select(sa.func.count()).select_from(Appointment).where(
        Appointment.client_id == client_id, Appointment.status == "booked",
        Appointment.starts_at >= now)) or 0
    recent_calls = db.session.scalar(sa.select(sa.func.count()).select_from(Call).where(
        Call.client_id == client_id, Call.purpose == "caller",
        Call.created_at >= now - timedelta(days=30))) or 0
    return page("release.html", number=number, client=get_client(client_id),
                upcoming=upcoming, recent_calls=recent_calls)


@bp.post("/numbers/<sid>/release")
def release_number(sid: str) -> Response:
    number = _owned(sid)
    client_id = number.client_id
    if request.form.get("confirm_number", "").strip() != number.phone_number:
        return page("release.html", status=422, number=number, client=get_client(client_id),
                    upcoming=None, recent_calls=None,
                    error="Type the number exactly as shown to confirm the release.")
    try:
        result = client_numbers.release_client_number(client_id)  # DELETE .../number
    except RinglyError as error:
        return page("error.html", status=503, title="Not released", detail=error.detail)
    return redirect(url_for("console.numbers", notice=result["status"]))
