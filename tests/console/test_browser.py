"""The console in Debian's Chromium, as an operator uses it: sign in, provision a client from a
search result and watch its job complete, change its hours and time zone, see a simulated call's
booking and transcript, repair a drifted number, release a number after confirming, sign out.
Screenshots of each page at desktop and phone width go to docs/screenshots/; axe-core (served
from the test, never fetched) checks the main pages for critical accessibility violations."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa

from ringly.clients.models import Client
from ringly.db import db
from ringly.telephony import WebhookConfig, get_gateway
from tests.support.browser import chromium

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
CALLER = "+13035550142"
BOOKING = [{"digits": "1"}, {"digits": "1"}, {"speech": "Maria Lopez"}, {"digits": "1"},
           {"speech": "tomorrow at 10 am"}, {"digits": "1"}]
OTHER_HOST = "https://old-host.example"


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport=VIEWPORTS["desktop"], base_url=live_server.url)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    hosts: set[str] = set()
    tab.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    yield tab
    context.close()
    # Every asset came from the app itself: nothing from a CDN or any other host.
    assert hosts <= {urlsplit(live_server.url).netloc}, hosts


def shoot(page, name: str) -> None:
    """The page at desktop and at phone width, in docs/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for kind, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{kind}.png"), full_page=True)
    page.set_viewport_size(VIEWPORTS["desktop"])


def critical_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{violation['id']}: {violation['help']} ({len(violation['nodes'])} nodes)"
            for violation in results.response["violations"]
            if violation["impact"] == "critical"]


def accessible(page) -> None:
    assert critical_violations(page) == [], page.url
    # At phone width nothing overflows the screen sideways but the tables' own scroll areas.
    page.set_viewport_size(VIEWPORTS["phone"])
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size(VIEWPORTS["desktop"])
    assert width <= VIEWPORTS["phone"]["width"] + 1, f"{page.url} is {width}px wide on a phone"


def sign_in(page, admin) -> None:
    page.goto("/admin/")
    assert "/admin/sign-in" in page.url
    shoot(page, "sign-in")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(admin.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Dashboard").wait_for()


def test_an_operator_runs_a_client_from_provisioning_to_release(
        app, prov, sandbox, celery_worker, live_server, admin, page):
    sign_in(page, admin)
    accessible(page)

    # Provision a client from a search result and watch its job complete.
    page.get_by_role("link", name="Provision", exact=True).click()
    page.get_by_label("Area code").fill("303")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("heading", name=re.compile("for sale")).wait_for()
    shoot(page, "provision")
    accessible(page)
    first = page.get_by_role("link", name=re.compile(r"^Provision \+1303"))
    chosen = first.first.get_attribute("aria-label").removeprefix("Provision ")
    first.first.click()
    page.get_by_label("Business name").fill("Denver Dental")
    page.get_by_label("Owner's email").fill("owner@denverdental.example")
    page.get_by_role("button", name="Provision", exact=True).click()
    page.get_by_text(f"Completed: {chosen} is live.").wait_for(timeout=60_000)
    shoot(page, "job")
    accessible(page)

    # Change the client's hours and time zone.
    page.get_by_role("link", name="Open the client").click()
    page.get_by_role("heading", name="Denver Dental").wait_for()
    assert page.locator('[data-health="OK"]').count() == 1
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        page.get_by_label(day, exact=True).fill("08:30-17:30")
    page.get_by_label("Time zone").select_option("America/Phoenix")
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("Settings saved.").wait_for()
    with app.app_context():
        client = db.session.scalar(sa.select(Client).where(Client.ringlypro_number == chosen))
        assert client.timezone == "America/Phoenix" and client.timezone_source == "explicit"
        assert client.business_hours["sun"] == [["08:30", "17:30"]]
        client_id, sid = client.id, client.twilio_number_sid
        db.session.remove()

    # A form posted without its CSRF token is refused.
    page.evaluate("document.querySelector('form.settings input[name=csrf_token]').remove()")
    page.get_by_role("button", name="Save settings").click()
    page.get_by_role("heading", name="Form refused").wait_for()
    page.go_back()

    # A simulated call books, and the client page shows the booking and the call.
    call = requests.post(f"{sandbox.url}/sandbox/calls", timeout=60, json={
        "to": chosen, "from": CALLER, "inputs": BOOKING}).json()
    assert "You're booked for" in " ".join(call["heard"]), call
    page.goto(f"/admin/clients/{client_id}")
    appointment = page.locator("[data-appointment]")
    assert appointment.count() == 1 and "Maria Lopez" in appointment.inner_text()
    assert "10:00 MST" in appointment.inner_text()  # tomorrow 10 am in the client's zone
    page.locator(f'details[data-call="{call["call_sid"]}"] summary').click()
    transcript = page.locator(f'details[data-call="{call["call_sid"]}"] .transcript').inner_text()
    assert "Maria Lopez" in transcript and "Thank you for calling Denver Dental" in transcript
    shoot(page, "client")
    accessible(page)

    # A drifted number is flagged and repaired.
    with app.app_context():
        get_gateway().update_webhooks(sid, WebhookConfig(
            voice_url=f"{OTHER_HOST}/voice/rachel/",
            voice_fallback_url=f"{OTHER_HOST}/voice/fallback",
            sms_url=f"{OTHER_HOST}/webhook/twilio/sms",
            status_callback=f"{OTHER_HOST}/webhook/twilio/status"))
    page.get_by_role("link", name="Numbers").click()
    row = page.locator(f'tr[data-sid="{sid}"]')
    assert row.get_attribute("data-flags") == "drift"
    shoot(page, "numbers")
    accessible(page)
    row.get_by_role("button", name=f"Repair webhooks of {chosen}").click()
    page.get_by_text("Webhooks repaired").wait_for()
    assert page.locator(f'tr[data-sid="{sid}"]').get_attribute("data-flags") == ""
    [number] = sandbox.owned_numbers()
    assert number["voice_url"] == f"{live_server.url}/voice/rachel/"

    # Release the number, after the confirmation that says what is lost.
    page.locator(f'tr[data-sid="{sid}"]').get_by_role("link", name=f"Release {chosen}").click()
    page.get_by_text("This cannot be undone.").wait_for()
    assert "1 upcoming appointment" in page.content()
    shoot(page, "release")
    accessible(page)
    page.get_by_label(f"Type {chosen} to confirm").fill("+10000000000")
    page.get_by_role("button", name="Release the number").click()
    assert "Type the number" in page.get_by_role("alert").inner_text()  # nothing released
    assert sandbox.owned_numbers()
    page.get_by_label(f"Type {chosen} to confirm").fill(chosen)
    page.get_by_role("button", name="Release the number").click()
    page.get_by_text("The number was released.").wait_for()
    assert sandbox.owned_numbers() == []

    # The other pages, and every action above in the audit log with the admin's name.
    for link, name in (("Dashboard", "dashboard"), ("Clients", "clients"), ("Jobs", "jobs"),
                       ("Events", "events"), ("Audit log", "audit")):
        page.get_by_role("link", name=link, exact=True).click()
        page.get_by_role("heading", level=1).wait_for()
        shoot(page, name)
        accessible(page)
    audit = page.locator("table.audit").inner_text()
    for kind in ("client.updated", "provisioning.requested", "number.webhooks_applied",
                 "number.released", "admin.signed_in"):
        assert kind in audit, kind
    assert f"admin {admin.email}" in audit

    # Sign out: the console is closed to this browser again.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You are signed out.").wait_for()
    page.goto("/admin/numbers")
    assert "/admin/sign-in" in page.url
