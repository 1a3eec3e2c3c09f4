"""POST /api/clients/provision and GET /api/provisioning-jobs/<id>."""
from __future__ import annotations

import re

from flask import Response, json, request
from flask.views import MethodView
from flask_smorest import Blueprint

from ringly.admin.scopes import PROVISION, READ, requires_scope
from ringly.errors import InvalidInput
from ringly.provisioning import presenters, services
from ringly.provisioning.schemas import (
    JobSchema,
    ProvisionAcceptedSchema,
    ProvisionFinishedSchema,
    ProvisionRequestSchema,
)
from ringly.provisioning.states import JobState

blp = Blueprint("provisioning", __name__, url_prefix="/api",
                description="Provision a Twilio number for a new client, as a durable job")

HEADER_PARAMS = [
    {"in": "header", "name": "Idempotency-Key", "schema": {"type": "string", "maxLength": 255},
     "description": "Same key and body: the same job. Same key, other body: 409."},
    {"in": "header", "name": "Prefer", "schema": {"type": "string", "example": "wait=10"},
     "description": "`wait=N` (N ≤ 30): answer 200 with the final result if the job ends "
                    "within N seconds."},
]
WAIT = re.compile(r"(?:^|[;,\s])wait=(\d+)")


def _wait_preference() -> int | None:
    match = WAIT.search(request.headers.get("Prefer", ""))
    return int(match.group(1)) if match else None


def _json(schema, data, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(schema.dump(data)), status=status, headers=headers or {},
                    mimetype="application/json")


@blp.route("/clients/provision")
class Provision(MethodView):
    @blp.arguments(ProvisionRequestSchema)
    @blp.doc(parameters=HEADER_PARAMS)
    @blp.alt_response(202, schema=ProvisionAcceptedSchema,
                      description="Accepted: poll the job at the Location header")
    @blp.alt_response(200, schema=ProvisionFinishedSchema,
                      description="With `Prefer: wait=N`, the job ended within N seconds")
    @requires_scope(PROVISION, rate_limit="provision")
    def post(self, body):
        """Create a client and a provisioning job; the number is bought by a worker."""
        key = request.headers.get("Idempotency-Key")
        if key is not None and not (1 <= len(key) <= 255 and key.isprintable()):
            raise InvalidInput("Idempotency-Key must be 1 to 255 printable characters",
                               errors={"Idempotency-Key": ["1 to 255 printable characters"]})
        submission = services.submit_provision(body, key)
        job = submission.job
        headers = {"Location": f"/api/provisioning-jobs/{job.id}"}
        wait = _wait_preference()
        if wait is not None:
            applied = min(wait, services.MAX_WAIT_S)
            headers["Preference-Applied"] = f"wait={applied}"
            job = services.wait_for_job(job, applied)
        number = services.job_number(job)
        if job.is_terminal and wait is not None:
            return _json(ProvisionFinishedSchema(), presenters.finished(job, number), 200, headers)
        status = 202 if job.state != JobState.COMPLETED or submission.created else 200
        return _json(ProvisionAcceptedSchema(), presenters.accepted(job, number), status, headers)


@blp.route("/provisioning-jobs/<job_id>")
class ProvisioningJobResource(MethodView):
    @blp.response(200, JobSchema)
    @requires_scope(READ)
    def get(self, job_id: str):
        """A job's state, step, attempts and timestamps; its result or error when finished."""
        job = services.get_job(job_id)
        return presenters.job_resource(job, services.job_number(job))
