"""GET /api/provisioning-jobs: every job newest first, filtered and paged like the other lists."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from ringly.admin.services import create_api_key
from ringly.db import db
from ringly.provisioning import saga
from ringly.provisioning.models import ProvisioningJob
from ringly.provisioning.states import JobState
from tests.provisioning.conftest import make_job

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _jobs(prov) -> list[str]:
    """Six jobs an hour apart from T0 (the last two in the same instant); ids oldest first."""
    ids = []
    for hour, state in enumerate(["completed", "failed", "queued", "completed", "searching",
                                  "completed"]):
        created = T0 + timedelta(hours=min(hour, 4))
        job = make_job({"business_name": f"Shop {hour}", "email": f"s{hour}@example.com"},
                       state=state, created_at=created, updated_at=created)
        ids.append(job.id)
    db.session.remove()
    return ids


def _get(client, headers, query: str = ""):
    response = client.get(f"/api/provisioning-jobs{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response


def _newest_first(prov, ids: list[str]) -> list[str]:
    jobs = [db.session.get(ProvisioningJob, job_id) for job_id in ids]
    order = sorted(jobs, key=lambda job: (job.created_at, job.id), reverse=True)
    db.session.remove()
    return [job.id for job in order]


def test_jobs_are_listed_newest_first_with_their_state(prov, client, api_headers):
    ids = _jobs(prov)
    body = _get(client, api_headers).get_json()
    assert [job["id"] for job in body] == _newest_first(prov, ids)
    assert {job["status"] for job in body} == {"completed", "failed", "queued", "searching"}
    assert all(job["location"] == f"/api/provisioning-jobs/{job['id']}" for job in body)


def test_pages_follow_the_link_without_repeating_or_skipping(prov, client, api_headers):
    ids = _jobs(prov)
    seen, query = [], "?limit=2&status=completed"
    while True:
        response = _get(client, api_headers, query)
        seen += [job["id"] for job in response.get_json()]
        if "Link" not in response.headers:
            break
        link = response.headers["Link"]
        assert "status=completed" in link and "limit=2" in link
        query = "?" + link[link.index("?") + 1:link.index(">")]
    completed = [ids[0], ids[3], ids[5]]
    assert seen == [job_id for job_id in _newest_first(prov, ids) if job_id in completed]


def test_filters_by_status_client_and_creation_time(prov, client, api_headers):
    ids = _jobs(prov)
    failed = _get(client, api_headers, "?status=failed").get_json()
    assert [job["id"] for job in failed] == [ids[1]]
    client_id = db.session.get(ProvisioningJob, ids[2]).client_id
    db.session.remove()
    mine = _get(client, api_headers, f"?client_id={client_id}").get_json()
    assert [job["id"] for job in mine] == [ids[2]]
    since = quote((T0 + timedelta(hours=1)).isoformat())
    until = quote((T0 + timedelta(hours=3)).isoformat())
    window = _get(client, api_headers, f"?created_from={since}&created_to={until}").get_json()
    assert [job["id"] for job in window] == [ids[2], ids[1]]  # [from, to)


@pytest.mark.parametrize("query", ["?status=done", "?client_id=0", "?client_id=x",
                                   "?created_from=2026-11-02T09:00:00",  # no zone
                                   "?created_from=2026-11-02T10:00:00Z"
                                   "&created_to=2026-11-02T09:00:00Z",
                                   "?limit=0", "?limit=201", "?cursor=made-up.cursor"])
def test_bad_filters_are_a_422_problem(prov, client, api_headers, query):
    response = client.get(f"/api/provisioning-jobs{query}", headers=api_headers)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"


def test_a_cursor_from_another_list_is_refused(prov, client, api_headers):
    _jobs(prov)
    cursor = _get(client, api_headers, "?limit=1").headers["X-Next-Cursor"]
    assert client.get(f"/api/clients?cursor={cursor}",
                      headers=api_headers).status_code == 422


def test_the_list_needs_the_read_scope(prov, client):
    _, raw = create_api_key("provision-only", ["provision"])
    db.session.remove()
    response = client.get("/api/provisioning-jobs", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 403 and response.get_json()["required_scope"] == "read"


def test_a_completed_job_in_the_list_carries_its_number(prov, sandbox, client, api_headers):
    job_id = make_job({"business_name": "Bella", "email": "b@example.com",
                       "areaCode": "415"}).id
    assert saga.advance(job_id) == JobState.COMPLETED
    db.session.remove()
    [job] = _get(client, api_headers).get_json()
    assert job["result"]["number_details"]["phoneNumber"].startswith("+1415")
    assert job == client.get(f"/api/provisioning-jobs/{job_id}", headers=api_headers).get_json()
