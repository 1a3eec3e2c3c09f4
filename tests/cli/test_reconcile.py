"""`flask numbers reconcile`: the plan first (target base, each change), then only with consent."""
from __future__ import annotations

import json

import sqlalchemy as sa

from ringly.admin.models import AuditEvent
from ringly.db import db
from ringly.provisioning import cli as numbers_cli
from ringly.provisioning.numbers import desired_webhooks
from ringly.provisioning.reconcile import plan_reconciliation
from ringly.telephony import WebhookConfig, get_gateway
from tests.cli.conftest import assert_one_line_error, provisioned

OLD = "https://old-host.example"


def _drift(sid: str) -> None:
    """What a shell with another WEBHOOK_BASE_URL did: the number points at another host."""
    get_gateway().update_webhooks(sid, WebhookConfig(
        voice_url=f"{OLD}/voice/rachel/", voice_fallback_url=f"{OLD}/voice/fallback",
        sms_url=f"{OLD}/webhook/twilio/sms", status_callback=f"{OLD}/webhook/twilio/status"))


def _voice_urls(sandbox) -> dict[str, str]:
    return {number["sid"]: number["voice_url"] for number in sandbox.owned_numbers()}


def _audited() -> list[str]:
    db.session.remove()
    return list(db.session.scalars(sa.select(AuditEvent.kind).where(
        AuditEvent.kind.like("number.%")).order_by(AuditEvent.id)))


def test_dry_run_shows_the_target_base_and_each_change_and_changes_nothing(cli, prov, sandbox):
    drifted, fine = provisioned(), provisioned("312", "Chicago Cuts")
    _drift(drifted.twilio_sid)
    before, audited = _voice_urls(sandbox), _audited()

    result = cli("numbers", "reconcile", "--dry-run")
    assert result.exit_code == 0, result.output
    out = result.stdout
    base = prov.config["WEBHOOK_BASE_URL"]
    assert f"webhook base:      {base} (WEBHOOK_BASE_URL)" in out
    assert "numbers at Twilio: 2 (1 as they should be)" in out
    assert f"webhooks to repair point now at: {OLD} (1)" in out
    [row] = [line for line in out.splitlines() if line.startswith("repair_webhooks")]
    assert drifted.phone_number in row and f"voice URL is {OLD}/voice/rachel/" in row
    assert out.splitlines()[-1] == "dry run: nothing changed (1 changes planned)"
    assert _voice_urls(sandbox) == before and _audited() == audited

    plan = cli.json("numbers", "reconcile", "--dry-run")
    assert plan["dry_run"] is True and plan["applied"] is None
    assert plan["plan"]["webhook_base"] == base
    assert plan["plan"]["counts"] == {"repair_webhooks": 1}
    assert [action["sid"] for action in plan["plan"]["actions"]] == [drifted.twilio_sid]
    assert _voice_urls(sandbox) == before and fine.twilio_sid in before


def test_without_yes_and_no_terminal_it_refuses_and_changes_nothing(cli, sandbox):
    drifted = provisioned()
    _drift(drifted.twilio_sid)
    before = _voice_urls(sandbox)
    assert_one_line_error(cli("numbers", "reconcile"),
                          "refusing to make 1 changes without a confirmation", "--yes")
    assert_one_line_error(cli("numbers", "reconcile", "--json"), "refusing")
    assert _voice_urls(sandbox) == before and _audited() == ["number.purchased"]


def test_with_yes_it_repairs_and_the_audit_log_names_the_command(cli, sandbox):
    drifted = provisioned()
    _drift(drifted.twilio_sid)
    result = cli("numbers", "reconcile", "--yes", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["applied"] == {"drift_repaired": 1}
    assert _voice_urls(sandbox)[drifted.twilio_sid] == desired_webhooks().voice_url
    event = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.kind == "number.drift_repaired"))
    assert event.actor == "cli numbers reconcile" and event.data["before"].startswith(OLD)
    again = cli("numbers", "reconcile")  # nothing left to change: no question to ask
    assert again.exit_code == 0 and again.stdout.splitlines()[-1] == "applied: ok 1"


def test_a_confirmation_on_a_terminal_is_asked_and_no_means_no(cli, prov, sandbox, monkeypatch):
    drifted = provisioned()
    _drift(drifted.twilio_sid)
    monkeypatch.setattr(numbers_cli, "stdin_is_terminal", lambda: True)  # an operator is there
    declined = cli("numbers", "reconcile", input="n\n")
    assert declined.exit_code == 1
    assert f"Make these 1 changes, pointing webhooks at {prov.config['WEBHOOK_BASE_URL']}?" \
        in declined.stderr
    assert _voice_urls(sandbox)[drifted.twilio_sid].startswith(OLD)
    accepted = cli("numbers", "reconcile", input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert _voice_urls(sandbox)[drifted.twilio_sid] == desired_webhooks().voice_url


def test_the_plan_is_what_beat_applies(prov, sandbox):
    drifted = provisioned()
    _drift(drifted.twilio_sid)
    plan = plan_reconciliation()
    assert [(action.kind, action.sid) for action in plan.changes] == [
        ("repair_webhooks", drifted.twilio_sid)]
    assert _voice_urls(sandbox)[drifted.twilio_sid].startswith(OLD)  # planning changed nothing


def test_dry_run_lists_orphans_missing_and_untracked_numbers_and_releases_none(cli, sandbox):
    from ringly.provisioning.numbers import friendly_name
    from ringly.provisioning.states import JobState
    from tests.provisioning.conftest import make_job

    gone = provisioned()
    get_gateway().release(gone.twilio_sid)
    failed = make_job({"business_name": "Gone", "email": "g@example.com"},
                      state=JobState.FAILED)
    gateway = get_gateway()
    orphan, stranger = (gateway.search_available(area_code="212", limit=2)[i].phone_number
                        for i in (0, 1))
    gateway.purchase(phone_number=orphan, webhooks=desired_webhooks(),
                     friendly_name=friendly_name("Gone", failed.tag))
    gateway.purchase(phone_number=stranger, friendly_name="ops line", webhooks=WebhookConfig())
    owned = sorted(number["sid"] for number in sandbox.owned_numbers())

    plan = cli.json("numbers", "reconcile", "--dry-run")["plan"]
    assert plan["counts"] == {"flag_missing": 1, "release_orphan": 1, "report_untracked": 1}
    assert {action["phone_number"]: action["action"] for action in plan["actions"]} == {
        gone.phone_number: "flag_missing", orphan: "release_orphan",
        stranger: "report_untracked"}
    assert sorted(number["sid"] for number in sandbox.owned_numbers()) == owned
    assert _audited() == ["number.purchased"]

    applied = cli.json("numbers", "reconcile", "--yes")["applied"]
    assert applied == {"missing_at_twilio": 1, "orphan_released": 1, "untracked": 1}
    assert [number["phone_number"] for number in sandbox.owned_numbers()] == [stranger]
