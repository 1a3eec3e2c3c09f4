"""Reconciliation: drift repaired, orphans adopted or released, missing numbers flagged."""
from __future__ import annotations

import json

import sqlalchemy as sa
from click.testing import CliRunner

from ringly import create_app
from ringly.admin.models import AuditEvent
from ringly.db import db
from ringly.provisioning.models import PhoneNumber
from ringly.provisioning.numbers import desired_webhooks, friendly_name
from ringly.provisioning.reconcile import reconcile_numbers
from ringly.provisioning.states import JobState
from ringly.telephony import WebhookConfig, get_gateway
from tests.provisioning.conftest import make_job, provisioned_client


def events(kind: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == kind)))


def test_webhook_drift_is_repaired_after_the_base_url_changes(prov, sandbox):
    _, sid = provisioned_client()
    old_base = prov.config["WEBHOOK_BASE_URL"]
    prov.config["WEBHOOK_BASE_URL"] = "https://new.ringly.example"
    try:
        findings = reconcile_numbers()
        owned = {n["sid"]: n for n in sandbox.owned_numbers()}[sid]
    finally:
        prov.config["WEBHOOK_BASE_URL"] = old_base
    assert findings == {"drift_repaired": 1}
    assert owned["voice_url"] == "https://new.ringly.example/voice/rachel/"
    assert owned["sms_url"] == "https://new.ringly.example/webhook/twilio/sms"
    [event] = events("number.drift_repaired")
    assert old_base in event.message


def test_tagged_number_of_a_failed_job_is_released(prov, sandbox):
    job = make_job({"business_name": "Gone", "email": "g@example.com"}, state=JobState.FAILED)
    number = get_gateway().search_available(area_code="212", limit=1)[0].phone_number
    bought = get_gateway().purchase(phone_number=number, webhooks=desired_webhooks(),
                                    friendly_name=friendly_name("Gone", job.tag))
    assert reconcile_numbers() == {"orphan_released": 1}
    row = db.session.scalar(sa.select(PhoneNumber).where(PhoneNumber.sid == bought.sid))
    assert row.status == "released" and row.job_id == job.id
    assert sandbox.owned_numbers() == []
    assert len(events("number.orphan_released")) == 1


def test_tagged_number_of_a_running_job_is_left_for_the_job_to_adopt(prov, sandbox):
    job = make_job({"business_name": "Busy", "email": "b@example.com"}, state=JobState.PURCHASING)
    number = get_gateway().search_available(area_code="212", limit=1)[0].phone_number
    get_gateway().purchase(phone_number=number, webhooks=desired_webhooks(),
                           friendly_name=friendly_name("Busy", job.tag))
    assert reconcile_numbers() == {"adopted_by_job": 1}
    assert len(sandbox.owned_numbers()) == 1


def test_untagged_number_is_reported_never_released(prov, sandbox):
    number = get_gateway().search_available(area_code="212", limit=1)[0].phone_number
    get_gateway().purchase(phone_number=number, friendly_name="ops line",
                           webhooks=WebhookConfig())
    assert reconcile_numbers() == {"untracked": 1}
    assert len(sandbox.owned_numbers()) == 1
    assert len(events("number.untracked")) == 1


def test_recorded_number_missing_at_twilio_is_flagged(prov, sandbox):
    _, sid = provisioned_client()
    get_gateway().release(sid)
    assert reconcile_numbers() == {"missing_at_twilio": 1}
    row = db.session.scalar(sa.select(PhoneNumber).where(PhoneNumber.sid == sid))
    assert row.missing_at_twilio_since is not None
    assert len(events("number.missing_at_twilio")) == 1


def test_cli_reconcile_prints_findings(prov, sandbox):
    provisioned_client()
    result = CliRunner().invoke(prov.cli, ["numbers", "reconcile", "--json"], obj=None,
                                catch_exceptions=False)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["applied"] == {"ok": 1}


def test_cli_reconcile_says_twilio_is_unreachable_instead_of_a_traceback(
    service_env, tmp_path
):
    unreachable = create_app({"ENVIRON": {**service_env,
                                          "TWILIO_API_BASE_URL": "http://127.0.0.1:9"},
                              "INSTANCE_PATH": str(tmp_path)})
    result = unreachable.test_cli_runner().invoke(args=["numbers", "reconcile"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: Twilio request failed")
    assert "Traceback" not in result.output

