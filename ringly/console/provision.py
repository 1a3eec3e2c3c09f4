"""Provision from the console: search numbers, provision a client with a chosen one, follow its
job live, retry a failed one. The same schemas and services as the API's routes."""
from __future__ import annotations

import secrets
from typing import Any

from flask import Response, g, jsonify, redirect, request, url_for
from marshmallow import ValidationError

from ringly.clients.schemas import TIME_ZONES
from ringly.console import formatting, settings_form
from ringly.console.blueprint import bp, page
from ringly.errors import RinglyError
from ringly.provisioning import client_numbers, presenters
from ringly.provisioning import services as provisioning
from ringly.provisioning.schemas import JobSchema, ProvisionRequestSchema, SearchNumbersSchema


def _search_body(args: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {"limit": 20}
    if args.get("area_code", "").strip():
        body["areaCode"] = args["area_code"].strip()
    if args.get("contains", "").strip():
        body["contains"] = args["contains"].strip()
    if args.get("toll_free") == "on":
        body["tollFree"] = True
        body.pop("areaCode", None)
    return body


SEARCH_FIELDS = {"areaCode": "area_code", "contains": "contains", "tollFree": "toll_free"}


@bp.get("/provision")
def provision() -> Response:
    """The search form, and its results when asked."""
    results, errors, status = None, {}, 200
    if request.args.get("search"):
        try:
            params = SearchNumbersSchema().load(_search_body(request.args))
            results = client_numbers.search_numbers(params)["numbers"]
        except ValidationError as error:
            errors = {SEARCH_FIELDS.get(name, name): " ".join(map(str, messages))
                      for name, messages in error.messages.items()}
            status = 422
        except RinglyError as error:
            errors, status = {"form": error.detail}, 503
    return page("provision.html", status=status, args=request.args, results=results,
                errors=errors)


@bp.route("/provision/new", methods=["GET", "POST"])
def provision_client() -> Response:
    """A client for the chosen number: business name, email and (optionally) time zone."""
    source = request.form if request.method == "POST" else request.args
    chosen = {"phone_number": source.get("phone_number", ""),
              "locality": source.get("locality", ""), "region": source.get("region", "")}
    if request.method == "GET":
        return page("provision_new.html", chosen=chosen, values={}, errors={},
                    form_token=secrets.token_urlsafe(16), time_zones=TIME_ZONES)
    body = {"business_name": source.get("business_name", "").strip(),
            "email": source.get("email", "").strip(), "phoneNumber": chosen["phone_number"]}
    if source.get("timezone"):
        body["timezone"] = source["timezone"]
    # The form's own token as the Idempotency-Key: a second click submits the same job.
    form_token = source.get("form_token") or secrets.token_urlsafe(16)
    try:
        loaded = ProvisionRequestSchema().load(body)
        outcome = provisioning.provision(loaded, idempotency_key=f"console:{form_token}",
                                         admin_user_id=g.admin_user.id)
    except ValidationError as error:
        errors = settings_form.field_errors(error.messages)
        if "phoneNumber" in errors:
            errors["form"] = f"The chosen number is not valid: {errors.pop('phoneNumber')}"
        return page("provision_new.html", status=422, chosen=chosen, values=source,
                    errors=errors, form_token=form_token, time_zones=TIME_ZONES)
    except RinglyError as error:
        return page("provision_new.html", status=409, chosen=chosen, values=source,
                    errors={"form": error.detail}, form_token=form_token, time_zones=TIME_ZONES)
    return redirect(url_for("console.job", job_id=outcome.job.id))


def _job_view(job_id: str) -> dict[str, Any]:
    """The job as the API answers it, plus its times as the console shows them (in the
    client's zone)."""
    job, number = provisioning.job_with_number(job_id)
    view = JobSchema().dump(presenters.job_resource(job, number))
    zone = job.client.timezone if job.client is not None else None
    view["business_name"] = job.client.business_name if job.client is not None else None
    view["created_at_local"] = formatting.local(job.created_at, zone)
    view["finished_at_local"] = formatting.local(job.finished_at, zone) \
        if job.finished_at else None
    return view


@bp.get("/jobs/<job_id>")
def job(job_id: str) -> Response:
    return page("job.html", job=_job_view(job_id), notice=request.args.get("notice"))


@bp.get("/jobs/<job_id>/status")
def job_status(job_id: str) -> Response:
    """The job as the API shows it, for the page's live progress."""
    return jsonify(_job_view(job_id))


@bp.post("/jobs/<job_id>/retry")
def retry_job(job_id: str) -> Response:
    try:
        retry = provisioning.retry_job(job_id, admin_user_id=g.admin_user.id)
    except RinglyError as error:
        return page("job.html", status=409, job=_job_view(job_id), error=error.detail)
    return redirect(url_for("console.job", job_id=retry.id, notice="retried"))
