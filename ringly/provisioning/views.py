"""POST /api/clients/provision, GET /api/provisioning-jobs (the list) and its jobs by id."""
from __future__ import annotations

from flask import Response, g
from flask.views import MethodView
from flask_smorest import Blueprint

from ringly.admin.scopes import PROVISION, READ, requires_scope
from ringly.paging import LINK_HEADERS, respond
from ringly.provisioning import presenters, services
from ringly.provisioning.schemas import (
    JobListArgsSchema,
    JobSchema,
    ProvisionAcceptedSchema,
    ProvisionFinishedSchema,
    ProvisionHeadersSchema,
    ProvisionRequestSchema,
)

blp = Blueprint("provisioning", __name__, url_prefix="/api",
                description="Provision a Twilio number for a new client, as a durable job")


@blp.route("/clients/provision")
class Provision(MethodView):
    # Headers first: a bad one is refused before anything is written or queued.
    @blp.arguments(ProvisionHeadersSchema, location="headers")
    @blp.arguments(ProvisionRequestSchema)
    @blp.alt_response(202, schema=ProvisionAcceptedSchema,
                      description="Accepted: poll the job at the Location header")
    @blp.alt_response(200, schema={"oneOf": [ProvisionFinishedSchema, ProvisionAcceptedSchema]},
                      description="With `Prefer: wait=N`, the job ended within N seconds (the "
                                  "final result); or a replay of a job that completed (the 202's "
                                  "shape)")
    @requires_scope(PROVISION, rate_limit="provision")
    def post(self, headers, body) -> Response:
        """Create a client and a provisioning job; the number is bought by a worker."""
        outcome = services.provision(body, idempotency_key=headers.get("idempotency_key"),
                                     wait=headers.get("wait"), api_key_id=g.api_key.id)
        return presenters.provision_answer(outcome)


@blp.route("/provisioning-jobs")
class ProvisioningJobs(MethodView):
    @blp.arguments(JobListArgsSchema, location="query")
    @blp.response(200, JobSchema(many=True), headers=LINK_HEADERS)
    @requires_scope(READ)
    def get(self, args):
        """Provisioning jobs newest first, `limit` per page (next page: the `Link` header);
        filter by `status`, `client_id` and creation time in [`created_from`, `created_to`)."""
        return respond(services.list_jobs(args), args,
                       carry=("status", "client_id", "created_from", "created_to"))


@blp.route("/provisioning-jobs/<job_id>")
class ProvisioningJobResource(MethodView):
    @blp.response(200, JobSchema)
    @requires_scope(READ)
    def get(self, job_id: str):
        """A job's state, step, attempts and timestamps; its result or error when finished."""
        return presenters.job_resource(*services.job_with_number(job_id))
