"""Numbers in the Messaging Service (TWILIO_MESSAGING_SERVICE_SID): join, leave, repair."""
from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from flask import current_app

from ringly.admin.services import record_event
from ringly.db import db
from ringly.provisioning.exceptions import JobFailed
from ringly.provisioning.models import PhoneNumber, ProvisioningJob
from ringly.provisioning.states import JobState, JobStep
from ringly.telephony import PermanentTelephonyError, get_gateway

AUTHENTICATE = 20003
NOT_FOUND = 20404
IN_ANOTHER_SERVICE = 21712
POOL_FULL = 21714
NOT_MESSAGING_CAPABLE = 21715


def configured_service() -> str | None:
    """The Messaging Service every Ringly number belongs in, if one is configured."""
    return current_app.config.get("TWILIO_MESSAGING_SERVICE_SID") or None


def after_configuration() -> tuple[JobState, JobStep | None]:
    """Where a job goes once its webhooks are right: into the service first, if there is one."""
    if configured_service():
        return JobState.CONFIGURING, JobStep.ADD_TO_MESSAGING_SERVICE
    return JobState.VERIFYING, None


def _can_text(number: PhoneNumber) -> bool:
    capabilities = {key.lower(): bool(value) for key, value in (number.capabilities or {}).items()}
    # Twilio takes only SMS- or MMS-capable numbers into a service (21715).
    return capabilities.get("sms", False) or capabilities.get("mms", False)


def _refusal(service: str, number: PhoneNumber, error: PermanentTelephonyError) -> str:
    known = {
        NOT_FOUND: f"the Messaging Service {service} does not exist in this Twilio account "
                   "(check TWILIO_MESSAGING_SERVICE_SID)",
        IN_ANOTHER_SERVICE: f"the number {number.phone_number} is in another Messaging Service",
        POOL_FULL: f"the Messaging Service {service} is full (Twilio allows 400 numbers "
                   "unless raised)",
    }
    text = known.get(error.twilio_code or 0) or (
        f"Twilio refused to add {number.phone_number} to the Messaging Service {service}: "
        f"{error.message}"
    )
    return f"{text} (Twilio error {error.twilio_code})"


def join_messaging_service(job: ProvisioningJob) -> None:
    """The job's step after its webhooks: its number into the service's sender pool.

    The step was committed as the recovery point before this runs; running it again is
    harmless (Twilio's 21710, already in the service, counts as done). A transient error
    propagates for the saga to retry; a permanent one fails the job (its number is released).
    """
    service = configured_service()
    number = db.session.scalar(sa.select(PhoneNumber).where(PhoneNumber.sid == job.twilio_sid))
    if service is not None and number is not None and _can_text(number):
        try:
            added = get_gateway().add_to_messaging_service(service, number.sid)
        except PermanentTelephonyError as error:
            if error.twilio_code == AUTHENTICATE:
                raise  # the saga names the credentials
            if error.twilio_code != NOT_MESSAGING_CAPABLE:
                raise JobFailed("messaging_service_failed", _refusal(service, number, error),
                                twilio_code=error.twilio_code) from None
            _record_skip(number, service)
        else:
            number.messaging_service_sid = service
            record_event("number.messaging_service_added",
                         f"{number.phone_number} is in the Messaging Service {service}"
                         + ("" if added else " (it was already there)"),
                         subject=number, data={"service_sid": service, "job_id": job.id})
    elif service is not None and number is not None:
        _record_skip(number, service)
    job.move_to(JobState.VERIFYING)
    db.session.commit()


def _record_skip(number: PhoneNumber, service: str) -> None:
    record_event("number.messaging_service_skipped",
                 f"{number.phone_number} cannot text (no SMS or MMS), so it stays out of the "
                 f"Messaging Service {service}", subject=number, data={"service_sid": service})


def leave_messaging_service(number: PhoneNumber) -> None:
    """Before a release: take the number out of its service (not being in it is fine).

    Raises TelephonyError when Twilio cannot be reached; the caller keeps the number for the
    release task, which tries both again."""
    service = number.messaging_service_sid or configured_service()
    if service is None:
        return
    removed = get_gateway().remove_from_messaging_service(service, number.sid)
    number.messaging_service_sid = None
    if removed:
        record_event("number.messaging_service_removed",
                     f"{number.phone_number} left the Messaging Service {service}",
                     subject=number, data={"service_sid": service})


def repair_messaging_service() -> Counter[str]:
    """Reconciliation: every active number that can text is in the service; adds those that
    are not (each an audit event) and reports what could not be added."""
    service = configured_service()
    findings: Counter[str] = Counter()
    if service is None:
        return findings
    try:
        listed = get_gateway().list_messaging_service_numbers(service)
    except PermanentTelephonyError as error:
        if error.twilio_code == AUTHENTICATE:
            raise
        record_event("messaging_service.unavailable", f"the Messaging Service {service} could "
                     f"not be listed: {error.message}", data={"service_sid": service,
                                                              "twilio_code": error.twilio_code})
        findings["messaging_service_unavailable"] += 1
        return findings
    in_service = {number.sid for number in listed}
    active = db.session.scalars(
        sa.select(PhoneNumber).where(PhoneNumber.status == "active",
                                     PhoneNumber.missing_at_twilio_since.is_(None))
        .order_by(PhoneNumber.id))
    for number in list(active):
        if number.sid in in_service:
            number.messaging_service_sid = service
        elif _can_text(number):
            findings[_re_add(number, service)] += 1
    db.session.commit()
    return findings


def _re_add(number: PhoneNumber, service: str) -> str:
    try:
        get_gateway().add_to_messaging_service(service, number.sid)
    except PermanentTelephonyError as error:
        if error.twilio_code == AUTHENTICATE:
            raise
        record_event("number.messaging_service_missing",
                     f"{number.phone_number} is not in the Messaging Service {service} and "
                     f"could not be added: {_refusal(service, number, error)}",
                     subject=number, data={"service_sid": service,
                                           "twilio_code": error.twilio_code})
        return "messaging_service_missing"
    number.messaging_service_sid = service
    record_event("number.messaging_service_repaired",
                 f"{number.phone_number} was missing from the Messaging Service {service}; "
                 "added back", subject=number, data={"service_sid": service})
    return "messaging_service_repaired"
