"""Provisioning fixtures: the sandbox wired to the app, with no shared candidates left over."""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from ringly.clients.models import Client
from ringly.db import db
from ringly.provisioning.candidates import forget_pools
from ringly.provisioning.models import ProvisioningJob


@pytest.fixture
def prov(app: Flask, sandbox: Any) -> Iterator[Flask]:
    """An app context with the sandbox reset and no shared candidates left from other tests.
    (Unless the test runs the real worker, its tasks are recorded, not delivered: see
    `sent_tasks` in tests/conftest.py.)"""
    with app.app_context():
        forget_pools()
        yield app
        db.session.remove()


def make_job(body: dict[str, Any], **fields: Any) -> ProvisioningJob:
    """A client and its queued job, committed, as the API would create them (without queueing)."""
    from ringly.provisioning.services import fingerprint

    client = Client(business_name=body["business_name"], email=body["email"])
    db.session.add(client)
    db.session.flush()
    fields.setdefault("state", "queued")
    fields.setdefault("tag", secrets.token_hex(4))
    job = ProvisioningJob(client_id=client.id, request=dict(body),
                          request_fingerprint=fingerprint(body), **fields)
    db.session.add(job)
    db.session.commit()
    return job


def provisioned_client(area_code: str = "415", name: str = "Bella Salon") -> tuple[int, str]:
    """A client whose job bought and configured a number (up to verification): (id, sid)."""
    from ringly.provisioning import saga
    from ringly.provisioning.exceptions import RetryLater

    job_id = make_job({"business_name": name, "email": "o@example.com",
                       "areaCode": area_code}).id
    try:
        saga.advance(job_id)
    except RetryLater:
        pass  # stopped at verification: the number is bought, recorded and configured
    db.session.remove()
    job = db.session.get(ProvisioningJob, job_id)
    assert job.twilio_sid, job.error_message
    return job.client_id, job.twilio_sid
