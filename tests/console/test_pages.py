"""The console's pages over the same services as the API: what each shows, what each action
changes, field errors next to their fields, and the audit log naming the admin."""
from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from ringly.admin.models import AuditEvent
from ringly.booking.models import Appointment
from ringly.clients.models import Client
from ringly.db import db, utcnow
from ringly.provisioning import saga
from ringly.provisioning.exceptions import RetryLater
from ringly.provisioning.models import PhoneNumber, ProvisioningJob
from ringly.telephony import WebhookConfig, get_gateway
from tests.console.conftest import csrf_of, post_form
from tests.provisioning.conftest import make_job, provisioned_client

OTHER_HOST = "https://old-host.example"


def _audit(app, kind: str) -> list[AuditEvent]:
    with app.app_context():
        events = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == kind)))
        db.session.expunge_all()
    return events


def _finish(job_id: str) -> None:
    """Run the job in this process as the worker would."""
    while True:
        try:
            if saga.advance(job_id) in ("completed", "failed"):
                return
        except RetryLater:
            continue
        finally:
            db.session.remove()


def test_the_dashboard_counts_numbers_jobs_calls_bookings_and_cost(app, prov, console):
    client_id, _ = provisioned_client("312")
    number = db.session.scalar(sa.select(PhoneNumber))
    number.status = "active"
    tomorrow = utcnow() + timedelta(days=1)
    db.session.add(Appointment(client_id=client_id, customer_name="Maria", confirmation_code="C1",
                               customer_phone="+13125550142", starts_at=tomorrow,
                               ends_at=tomorrow + timedelta(minutes=30)))
    make_job({"business_name": "Waiting", "email": "w@example.com", "areaCode": "213"})
    db.session.commit()
    page = console.get("/admin/")
    assert page.status_code == 200
    figures = dict(re.findall(r'data-figure="([a-z-]+)">([^<]+)<', page.text))
    assert figures["numbers-active"] == "1"
    assert figures["jobs-in-flight"] == "1"  # the waiting one; the first completed
    assert figures["bookings-today"] == "1"
    assert figures["cost-total"] == "$1.15"  # one local number, nothing else yet
    assert "ElevenLabs is not configured" in page.text


def test_clients_are_searched_and_paged_like_the_api_lists_them(app, prov, console):
    for index in range(30):
        db.session.add(Client(business_name=f"Salon {index:02d}", email="o@example.com"))
    db.session.add(Client(business_name="Barber Joe", email="j@example.com"))
    db.session.commit()
    first = console.get("/admin/clients")
    assert "Barber Joe" in first.text and "Salon 29" in first.text and "Salon 04" not in first.text
    older = re.search(r'href="(/admin/clients\?cursor=[^"]+)" rel="next"', first.text).group(1)
    assert "Salon 04" in console.get(older.replace("&amp;", "&")).text
    found = console.get("/admin/clients?q=barber")
    assert "Barber Joe" in found.text and "Salon" not in found.text
    assert "Salon 04" not in console.get("/admin/clients?cursor=forged.AAAAAAAAAAAAAAAAAAAAAA").text


def test_a_client_page_shows_its_number_health_settings_and_usage(app, prov, console):
    client_id, sid = provisioned_client("312")
    page = console.get(f"/admin/clients/{client_id}")
    assert page.status_code == 200
    assert 'data-health="OK"' in page.text
    assert "America/Chicago" in page.text  # the number's zone, and the page's times in it
    assert 'name="hours_mon" type="text" value="09:00-17:00"' in page.text
    assert console.get("/admin/clients/999999").status_code == 404


def test_settings_are_saved_through_the_client_service_and_audited_as_the_admin(
        app, prov, console, admin):
    client_id, _ = provisioned_client("312")
    url = f"/admin/clients/{client_id}"
    form = {"timezone": "America/Denver", "rachel_enabled": "on", "active": "on",
            "hours_mon": "08:00-12:00, 13:00-18:30", "hours_tue": "9:00-17:00",
            "hours_sat": "10:00-14:00", "slot_minutes": "45", "buffer_minutes": "15",
            "min_notice_minutes": "120", "horizon_days": "30", "max_per_slot": "2",
            "closed_dates": "2026-12-24 to 2026-12-26\n2027-01-01", "custom_greeting": "Hi!",
            "forwarding_number": "+1 (312) 555-0199"}
    response = post_form(console, url, f"{url}/settings", form)
    assert response.status_code == 302 and "notice=saved" in response.headers["Location"]
    client = db.session.get(Client, client_id)
    assert client.timezone == "America/Denver" and client.timezone_source == "explicit"
    assert client.business_hours["mon"] == [["08:00", "12:00"], ["13:00", "18:30"]]
    assert client.business_hours["tue"] == [["09:00", "17:00"]]
    assert client.business_hours["wed"] == [] and client.business_hours["sat"] == [["10:00",
                                                                                    "14:00"]]
    assert (client.slot_minutes, client.buffer_minutes, client.min_notice_minutes,
            client.horizon_days, client.max_per_slot) == (45, 15, 120, 30, 2)
    assert client.closed_dates == [{"from": "2026-12-24", "to": "2026-12-26"},
                                   {"from": "2027-01-01", "to": "2027-01-01"}]
    assert client.forwarding_number == "+13125550199"
    [event] = _audit(app, "client.updated")
    assert event.actor == f"admin {admin.email}" and event.admin_user_id == admin.id
    # Saving the same form again changes nothing and records nothing.
    again = post_form(console, url, f"{url}/settings", form)
    assert "notice=unchanged" in again.headers["Location"]
    assert len(_audit(app, "client.updated")) == 1


def test_each_bad_setting_is_named_next_to_its_field_and_nothing_is_saved(app, prov, console):
    client_id, _ = provisioned_client("312")
    url = f"/admin/clients/{client_id}"
    response = post_form(console, url, f"{url}/settings", {
        "timezone": "Mars/Olympus", "hours_mon": "nine to five", "hours_tue": "17:00-09:00",
        "slot_minutes": "2", "buffer_minutes": "0", "min_notice_minutes": "60",
        "horizon_days": "90", "max_per_slot": "1", "closed_dates": "2026-13-45",
        "forwarding_number": "+442079460000"})
    assert response.status_code == 422
    html = response.text
    for field in ("timezone", "hours_mon", "hours_tue", "slot_minutes", "closed_dates"):
        assert f'id="{field}-error"' in html, field
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', html), field
    assert 'value="nine to five"' in html  # what was typed is kept
    client = db.session.get(Client, client_id)
    assert client.timezone == "America/Chicago" and client.slot_minutes == 30
    # The destination policy refuses a forwarding number abroad, next to the field.
    fine = {"timezone": "America/Chicago", "hours_mon": "09:00-17:00", "slot_minutes": "30",
            "buffer_minutes": "0", "min_notice_minutes": "60", "horizon_days": "90",
            "max_per_slot": "1", "forwarding_number": "+442079460000"}
    refused = post_form(console, url, f"{url}/settings", fine)
    assert refused.status_code == 422 and 'id="forwarding_number-error"' in refused.text
    assert db.session.get(Client, client_id).forwarding_number is None


def test_provisioning_from_a_search_result_is_one_job_however_often_it_is_sent(
        app, prov, console, admin, sandbox):
    results = console.get("/admin/provision?search=1&area_code=312")
    assert results.status_code == 200
    chosen = re.search(r'href="(/admin/provision/new\?[^"]+)"', results.text).group(1)
    chosen = chosen.replace("&amp;", "&")
    form_page = console.get(chosen)
    phone = re.search(r'name="phone_number" value="([^"]+)"', form_page.text).group(1)
    token = re.search(r'name="form_token" value="([^"]+)"', form_page.text).group(1)
    data = {"csrf_token": csrf_of(form_page.text), "form_token": token, "phone_number": phone,
            "business_name": "Chicago Cuts", "email": "owner@cuts.example"}
    first = console.post("/admin/provision/new", data=data)
    second = console.post("/admin/provision/new", data=data)  # a double click
    assert first.status_code == 302 and first.headers["Location"] == second.headers["Location"]
    job_id = first.headers["Location"].rsplit("/", 1)[-1]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProvisioningJob)) == 1
    _finish(job_id)
    status = console.get(f"/admin/jobs/{job_id}/status").json
    assert status["status"] == "completed"
    assert status["result"]["client"]["ringlypro_number"] == phone
    assert "Completed" in console.get(f"/admin/jobs/{job_id}").text
    [requested] = _audit(app, "provisioning.requested")
    assert requested.actor == f"admin {admin.email}"
    # The job's own steps name the admin who asked for it.
    purchased = [event for event in _audit(app, "number.purchased")]
    assert purchased and all(f"for admin {admin.email}" in event.actor for event in purchased)


def test_a_search_with_a_bad_area_code_says_so_next_to_the_field(console, prov):
    response = console.get("/admin/provision?search=1&area_code=31")
    assert response.status_code == 422 and 'id="area_code-error"' in response.text


def test_the_new_client_form_names_its_missing_fields(console, prov):
    page = console.get("/admin/provision/new?phone_number=%2B13125550100")
    response = console.post("/admin/provision/new", data={
        "csrf_token": csrf_of(page.text), "phone_number": "+13125550100",
        "business_name": "", "email": "not an email"})
    assert response.status_code == 422
    assert 'id="business_name-error"' in response.text and 'id="email-error"' in response.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProvisioningJob)) == 0


def test_a_failed_job_shows_twilios_reason_and_can_be_retried(app, prov, console, admin,
                                                              sandbox):
    job = make_job({"business_name": "Nowhere", "email": "n@example.com", "areaCode": "533"})
    _finish(job.id)
    page = console.get(f"/admin/jobs/{job.id}")
    assert "Failed: no numbers available in area code 533 (Twilio 21452)" in page.text
    retried = post_form(console, f"/admin/jobs/{job.id}", f"/admin/jobs/{job.id}/retry")
    assert retried.status_code == 302
    retry_id = retried.headers["Location"].split("/")[-1].split("?")[0]
    assert retry_id != job.id
    assert db.session.get(ProvisioningJob, retry_id).admin_user_id == admin.id
    again = post_form(console, f"/admin/jobs/{job.id}", f"/admin/jobs/{job.id}/retry")
    assert again.status_code == 409  # the client has a job running: never two at once


def test_the_numbers_page_flags_drift_and_repair_sets_the_webhooks_back(app, prov, console,
                                                                       admin, sandbox):
    client_id, sid = provisioned_client("312")
    db.session.get(PhoneNumber, db.session.scalar(sa.select(PhoneNumber.id))).status = "active"
    db.session.commit()
    get_gateway().update_webhooks(sid, WebhookConfig(
        voice_url=f"{OTHER_HOST}/voice/rachel/", voice_fallback_url=f"{OTHER_HOST}/voice/fallback",
        sms_url=f"{OTHER_HOST}/webhook/twilio/sms",
        status_callback=f"{OTHER_HOST}/webhook/twilio/status"))
    page = console.get("/admin/numbers")
    assert re.search(rf'data-sid="{sid}" data-flags="drift"', page.text)
    assert 'data-health="DRIFT"' in console.get(f"/admin/clients/{client_id}").text
    repaired = post_form(console, "/admin/numbers", f"/admin/numbers/{sid}/repair")
    assert repaired.status_code == 302
    [number] = sandbox.owned_numbers()
    assert number["voice_url"].startswith(app.config["WEBHOOK_BASE_URL"])
    assert re.search(rf'data-sid="{sid}" data-flags=""', console.get("/admin/numbers").text)
    [event] = _audit(app, "number.webhooks_applied")
    assert event.actor == f"admin {admin.email}"


def test_releasing_a_number_asks_first_and_says_what_is_lost(app, prov, console, admin,
                                                            sandbox):
    client_id, sid = provisioned_client("312")
    number = db.session.scalar(sa.select(PhoneNumber))
    number.status, phone = "active", number.phone_number
    db.session.commit()
    confirm = console.get(f"/admin/numbers/{sid}/release")
    assert confirm.status_code == 200
    assert "cannot be undone" in confirm.text and "$1.15" in confirm.text
    wrong = post_form(console, f"/admin/numbers/{sid}/release", f"/admin/numbers/{sid}/release",
                      {"confirm_number": "+10000000000"})
    assert wrong.status_code == 422 and sandbox.owned_numbers()
    released = post_form(console, f"/admin/numbers/{sid}/release",
                         f"/admin/numbers/{sid}/release", {"confirm_number": phone})
    assert released.status_code == 302 and "notice=released" in released.headers["Location"]
    assert sandbox.owned_numbers() == []
    [event] = _audit(app, "number.released")
    assert event.actor == f"admin {admin.email}"
    # Only a client's own number is released here.
    assert console.get("/admin/numbers/PN0000/release").status_code == 404


def test_jobs_audit_and_events_pages_list_and_filter(app, prov, console, admin):
    provisioned_client("312")
    make_job({"business_name": "Other", "email": "x@example.com", "areaCode": "213"})
    jobs = console.get("/admin/jobs")
    assert jobs.status_code == 200 and jobs.text.count('href="/admin/jobs/') == 2
    assert console.get("/admin/jobs?status=queued").text.count('href="/admin/jobs/') == 1
    bad = console.get("/admin/jobs?status=nonsense")
    assert bad.status_code == 200 and 'id="status-error"' in bad.text
    audit = console.get("/admin/audit?kind=admin.signed_in")
    assert f"admin {admin.email}" in audit.text and "number.purchased" not in audit.text
    assert console.get("/admin/events").status_code == 200

