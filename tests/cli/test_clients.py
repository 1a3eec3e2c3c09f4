"""`flask clients list|show|check`: tables, --json, and each client's number live at Twilio."""
from __future__ import annotations

import json

import sqlalchemy as sa

from ringly.admin.models import AuditEvent
from ringly.db import db
from ringly.telephony import WebhookConfig, get_gateway
from tests.cli.conftest import assert_one_line_error, provisioned
from tests.provisioning.conftest import make_job


def test_list_shows_a_table_and_filters_like_the_api(cli, sandbox):
    bella = provisioned(name="Bella Salon")
    provisioned(area_code="312", name="Chicago Cuts")
    waiting = make_job({"business_name": "Bella Nails", "email": "n@example.com"}).client_id

    table = cli("clients", "list")
    assert table.exit_code == 0, table.output
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["id", "business", "number", "active", "time", "zone"]
    assert len(rows) == 4 and rows[-1] == "3 clients"
    assert any(bella.phone_number in row and "America/Los_Angeles" in row
               for row in rows)

    named = cli.json("clients", "list", "--q", "bella")
    assert {c["business_name"] for c in named} == {"Bella Salon", "Bella Nails"}
    numbered = cli.json("clients", "list", "--q", "bella", "--has-number")
    assert [c["id"] for c in numbered] == [bella.client_id]
    assert [c["id"] for c in cli.json("clients", "list", "--no-number")] == [waiting]
    assert len(cli.json("clients", "list", "--limit", "1")) == 1


def test_show_prints_the_client_its_number_and_latest_job(cli, sandbox):
    job = provisioned()
    shown = cli("clients", "show", str(job.client_id))
    assert shown.exit_code == 0, shown.output
    assert f"latest job:    {job.id} completed" in shown.stdout
    assert "number status: active (local, San Francisco, CA)" in shown.stdout
    data = cli.json("clients", "show", str(job.client_id))
    assert data["client"]["ringlypro_number"] == job.phone_number
    assert data["number"]["status"] == "active"
    assert data["latest_job"] == {"id": job.id, "status": "completed", "error_code": None}
    assert_one_line_error(cli("clients", "show", "999999"), "no client 999999")
    assert_one_line_error(cli("clients", "show", "abc"), "'abc' is not a valid integer range")


def test_check_says_ok_for_a_number_as_ringly_would_set_it(cli, sandbox):
    job = provisioned()
    result = cli("clients", "check")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "1 checked, 1 OK, 0 not OK"
    [check] = cli.json("clients", "check", str(job.client_id))
    assert check == {"client_id": job.client_id, "business_name": "Bella Salon",
                     "phone_number": job.phone_number, "sid": job.twilio_sid, "status": "OK",
                     "differences": [], "notes": []}


def test_check_names_each_drifted_webhook_and_missing_number_and_exits_1(cli, sandbox):
    drifted, gone, fine = provisioned(), provisioned("312", "Gone Salon"), provisioned("212", "Ok")
    desired = get_gateway().fetch_number(drifted.twilio_sid)
    get_gateway().update_webhooks(drifted.twilio_sid, WebhookConfig(
        voice_url="https://old.example/voice/rachel/", sms_url=desired.sms_url,
        voice_fallback_url=desired.voice_fallback_url, status_callback=None))
    get_gateway().release(gone.twilio_sid)

    result = cli("clients", "check")
    line = assert_one_line_error(result, "2 of 3 clients are not OK")
    assert f"{drifted.client_id} DRIFT" in line and f"{gone.client_id} MISSING" in line
    as_json = cli("clients", "check", "--json")
    assert as_json.exit_code == 1
    checks = {c["client_id"]: c for c in json.loads(as_json.stdout)}
    assert checks[fine.client_id]["status"] == "OK"
    assert checks[drifted.client_id]["status"] == "DRIFT"
    assert checks[drifted.client_id]["differences"] == [
        f"voice URL is https://old.example/voice/rachel/, should be {desired.voice_url}",
        f"status callback is unset, should be {desired.status_callback}"]
    assert checks[gone.client_id]["status"] == "MISSING"
    assert checks[gone.client_id]["differences"][0].startswith(
        f"Twilio has no number {gone.twilio_sid}")
    # A check changes nothing: Twilio keeps the drift, and nothing is audited.
    assert get_gateway().fetch_number(drifted.twilio_sid).voice_url == \
        "https://old.example/voice/rachel/"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.kind.like("number.%repaired"))) == 0


def test_check_finds_a_number_missing_from_the_messaging_service(cli, prov, sandbox):
    job = provisioned()
    service = sandbox.create_messaging_service()["sid"]
    prov.config["TWILIO_MESSAGING_SERVICE_SID"] = service
    try:
        result = cli("clients", "check", str(job.client_id))
    finally:
        prov.config["TWILIO_MESSAGING_SERVICE_SID"] = None
    assert_one_line_error(result, f"{job.client_id} DRIFT")
    assert f"not in the Messaging Service {service}" in result.stdout


def test_check_of_a_client_without_a_number_says_missing(cli, sandbox):
    client_id = make_job({"business_name": "Waiting", "email": "w@example.com"}).client_id
    result = cli("clients", "check", str(client_id))
    assert_one_line_error(result, f"{client_id} MISSING")
    assert "the client has no number" in result.stdout
