"""The response shapes: the original API's (kept exactly) and the job resource around them."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Response, json

from ringly.clients.models import Client
from ringly.provisioning.models import PhoneNumber, ProvisioningJob
from ringly.provisioning.numbers import desired_webhooks
from ringly.provisioning.schemas import ProvisionAcceptedSchema, ProvisionFinishedSchema

if TYPE_CHECKING:
    from ringly.provisioning.services import Provisioned
from ringly.provisioning.states import JobState


def client_shape(client: Client | None) -> dict[str, Any] | None:
    """The original's `client` object (snake_case)."""
    if client is None:
        return None
    webhooks = desired_webhooks()
    return {
        "id": client.id,
        "business_name": client.business_name,
        "email": client.email,
        "ringlypro_number": client.ringlypro_number,
        "twilio_number_sid": client.twilio_number_sid,
        "rachel_enabled": client.rachel_enabled,
        "active": client.active,
        "voice_webhook": webhooks.voice_url,
        "sms_webhook": webhooks.sms_url,
    }


def number_details(number: PhoneNumber) -> dict[str, Any]:
    """The original's `number_details` object (camelCase)."""
    capabilities = number.capabilities or {}
    return {
        "phoneNumber": number.phone_number,
        "friendlyName": number.friendly_name,
        "locality": number.locality,
        "region": number.region,
        "capabilities": {key: bool(capabilities.get(key)) for key in ("voice", "sms", "mms")},
    }


def provision_result(job: ProvisioningJob, number: PhoneNumber | None) -> dict[str, Any] | None:
    """The original's full success answer, once the job completed."""
    if job.state != JobState.COMPLETED or number is None:
        return None
    return {
        "success": True,
        "message": f"Provisioned {number.phone_number} for {job.client.business_name}"
        if job.client else f"Provisioned {number.phone_number}",
        "client": client_shape(job.client),
        "number_details": number_details(number),
    }


def job_resource(job: ProvisioningJob, number: PhoneNumber | None) -> dict[str, Any]:
    """GET /api/provisioning-jobs/<id>."""
    error = None
    if job.state == JobState.FAILED:
        error = {"code": job.error_code, "message": job.error_message,
                 "twilio_code": job.twilio_error_code}
    return {
        "id": job.id,
        "status": job.state,
        "step": job.step,
        "attempts": job.attempts,
        "tag": job.tag,
        "client_id": job.client_id,
        "chosen_number": job.chosen_number,
        "choice_reason": job.choice_reason,
        "twilio_sid": job.twilio_sid,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "next_attempt_at": job.next_attempt_at,
        "error": error,
        "result": provision_result(job, number),
        "location": f"/api/provisioning-jobs/{job.id}",
    }


def accepted(job: ProvisioningJob, number: PhoneNumber | None) -> dict[str, Any]:
    """The 202 answer (and a replay's answer): the job and the client."""
    return {
        "success": True,
        "message": f"Provisioning job {job.id} is {job.state}",
        "job": job_resource(job, number),
        "client": client_shape(job.client),
    }


def finished(job: ProvisioningJob, number: PhoneNumber | None) -> dict[str, Any]:
    """The 200 answer to `Prefer: wait` when the job ended within the wait."""
    if job.state == JobState.COMPLETED:
        return {**provision_result(job, number), "job_id": job.id}
    return {
        "success": False,
        "message": job.error_message,
        "error": {"code": job.error_code, "message": job.error_message,
                  "twilio_code": job.twilio_error_code},
        "client": client_shape(job.client),
        "job_id": job.id,
    }


def provision_answer(outcome: Provisioned) -> Response:
    """The answer to a provision request: 200 with the final result when the caller waited and
    the job ended; else 202 with the job (200 for a replay of a job that completed). Location
    always; `Preference-Applied` when a wait was used."""
    job = outcome.job
    headers = {"Location": f"/api/provisioning-jobs/{job.id}"}
    if outcome.waited is not None:
        headers["Preference-Applied"] = f"wait={outcome.waited}"
    if outcome.finished:
        data, status = ProvisionFinishedSchema().dump(finished(job, outcome.number)), 200
    else:
        data = ProvisionAcceptedSchema().dump(accepted(job, outcome.number))
        status = 202 if job.state != JobState.COMPLETED or outcome.created else 200
    return Response(json.dumps(data), status=status, headers=headers,
                    mimetype="application/json")
