"""A client's time zone comes from the number it is bought, unless someone chose one; the real
saga against the sandbox, the API, `flask clients fix-timezones`, and a call booked in it."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests
import sqlalchemy as sa

from ringly.admin.models import AuditEvent
from ringly.booking.models import Appointment
from ringly.booking.slots import zone
from ringly.clients.models import WEEKDAYS, Client
from ringly.db import db, utcnow
from ringly.provisioning import saga
from ringly.provisioning.models import PhoneNumber, ProvisioningJob

BODY = {"business_name": "Bella Salon", "email": "owner@bella.example"}
EVERY_DAY = {day: [["09:00", "17:00"]] for day in WEEKDAYS}
# Not the old hard-wired America/New_York: a toll-free client must get the setting's zone.
DEFAULT_ZONE = "America/Phoenix"


@pytest.fixture
def default_zone(prov, monkeypatch):
    monkeypatch.setitem(prov.config, "DEFAULT_TIMEZONE", DEFAULT_ZONE)
    return DEFAULT_ZONE


def provision(http, headers, **body) -> int:
    """Provision through the API, run the job's saga to the end here; the client's id."""
    response = http.post("/api/clients/provision", json={**BODY, **body}, headers=headers)
    assert response.status_code == 202, response.get_json()
    answer = response.get_json()
    saga.advance(answer["job"]["id"])
    db.session.remove()
    job = db.session.get(ProvisioningJob, answer["job"]["id"])
    assert job.state == "completed", job.error_message
    return answer["client"]["id"]


def settings(http, headers, client_id: int) -> dict:
    response = http.get(f"/api/clients/{client_id}", headers=headers)
    assert response.status_code == 200
    return response.get_json()


@pytest.mark.parametrize(("body", "expected"), [
    ({"areaCode": "312"}, ("America/Chicago", "number")),
    ({"areaCode": "213"}, ("America/Los_Angeles", "number")),
    ({"areaCode": "303"}, ("America/Denver", "number")),
    ({"tollFree": True}, (DEFAULT_ZONE, "default")),
])
def test_a_client_without_a_zone_gets_its_numbers_zone_when_the_number_is_bought(
        prov, client, api_headers, default_zone, body, expected):
    client_id = provision(client, api_headers, **body)
    answer = settings(client, api_headers, client_id)
    assert (answer["timezone"], answer["timezone_source"]) == expected


def test_before_its_number_is_bought_a_client_is_in_the_default_zone(
        prov, client, api_headers, default_zone):
    response = client.post("/api/clients/provision", json={**BODY, "areaCode": "312"},
                           headers=api_headers)
    answer = settings(client, api_headers, response.get_json()["client"]["id"])
    assert (answer["timezone"], answer["timezone_source"]) == (DEFAULT_ZONE, "default")


def test_a_zone_in_the_provision_request_wins_over_the_numbers(prov, client, api_headers):
    client_id = provision(client, api_headers, areaCode="312", timezone="America/New_York")
    answer = settings(client, api_headers, client_id)
    assert answer["ringlypro_number"].startswith("+1312")
    assert (answer["timezone"], answer["timezone_source"]) == ("America/New_York", "explicit")


def test_a_zone_set_by_patch_is_explicit_and_kept(prov, client, api_headers):
    client_id = provision(client, api_headers, areaCode="213")
    response = client.patch(f"/api/clients/{client_id}", json={"timezone": "America/Denver"},
                            headers=api_headers)
    assert response.status_code == 200
    assert (response.get_json()["timezone"], response.get_json()["timezone_source"]) == \
        ("America/Denver", "explicit")
    result = prov.test_cli_runner().invoke(args=["clients", "fix-timezones"])
    assert result.exit_code == 0, result.output
    assert f"client {client_id} " in result.output and "kept (explicit)" in result.output
    assert settings(client, api_headers, client_id)["timezone"] == "America/Denver"


def test_an_exact_number_purchase_records_its_locality_region_and_zone(prov, client, api_headers):
    from ringly.telephony import get_gateway

    wanted = get_gateway().search_available(area_code="303", limit=3)[2].phone_number
    client_id = provision(client, api_headers, phoneNumber=wanted)
    number = db.session.scalar(sa.select(PhoneNumber).where(PhoneNumber.phone_number == wanted))
    assert (number.locality, number.region) == ("Denver", "CO")
    assert number.capabilities.get("voice") is True
    assert settings(client, api_headers, client_id)["timezone"] == "America/Denver"


@pytest.mark.parametrize(("locality", "expected"), [
    ("Pensacola", "America/Chicago"), ("Tallahassee", "America/New_York"),
    ("Panama City", "America/Chicago"),
])
def test_in_an_area_code_spanning_two_zones_the_numbers_rate_center_decides(
        prov, client, api_headers, locality, expected):
    """850 is Central in Pensacola and Panama City, Eastern in Tallahassee: a number bought
    by exact `phoneNumber` takes its locality's zone, from the search answer's locality."""
    from ringly.telephony import get_gateway

    found = get_gateway().search_available(area_code="850", locality=locality, limit=5)
    assert found and {number.locality for number in found} == {locality}
    wanted = found[1].phone_number
    client_id = provision(client, api_headers, phoneNumber=wanted)
    number = db.session.scalar(sa.select(PhoneNumber).where(PhoneNumber.phone_number == wanted))
    assert (number.locality, number.region) == (locality, "FL")
    answer = settings(client, api_headers, client_id)
    assert (answer["ringlypro_number"], answer["timezone"], answer["timezone_source"]) == (
        wanted, expected, "number")


def test_a_provision_by_area_code_850_takes_the_zone_of_the_number_it_bought(
        prov, client, api_headers):
    zones = {"Pensacola": "America/Chicago", "Panama City": "America/Chicago",
             "Tallahassee": "America/New_York"}
    seen = set()
    for _ in range(3):  # the first three numbers for sale: one in each locality
        client_id = provision(client, api_headers, areaCode="850")
        answer = settings(client, api_headers, client_id)
        number = db.session.scalar(sa.select(PhoneNumber).where(
            PhoneNumber.phone_number == answer["ringlypro_number"]))
        assert answer["timezone"] == zones[number.locality], number.locality
        seen.add(number.locality)
    assert seen == set(zones)


def _as_before_this_release(*client_ids: int) -> None:
    """What every client without a zone had before numbers gave zones: New York, by default."""
    db.session.execute(sa.update(Client).where(Client.id.in_(client_ids))
                       .values(timezone="America/New_York", timezone_source="default"))
    db.session.commit()


def _zones() -> dict[int, tuple[str, str]]:
    db.session.remove()
    return {row.id: (row.timezone, row.timezone_source)
            for row in db.session.execute(sa.select(Client.id, Client.timezone,
                                                    Client.timezone_source))}


def test_fix_timezones_lists_with_dry_run_then_applies_only_where_the_zone_was_not_chosen(
        prov, client, api_headers):
    chicago = provision(client, api_headers, areaCode="312")
    denver = provision(client, api_headers, areaCode="303")
    chosen = provision(client, api_headers, areaCode="213", timezone="America/New_York")
    new_york = provision(client, api_headers, areaCode="212")
    _as_before_this_release(chicago, denver, new_york)
    before = _zones()
    runner = prov.test_cli_runner()

    dry = runner.invoke(args=["clients", "fix-timezones", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    lines = dry.output.splitlines()
    chicago_number = db.session.get(Client, chicago).ringlypro_number
    assert f"client {chicago} (Bella Salon, {chicago_number}): America/New_York would change " \
           f"to America/Chicago (area code 312)" in lines
    assert any(f"client {denver} " in line and "would change to America/Denver" in line
               for line in lines)
    assert any(f"client {chosen} " in line and "kept (explicit)" in line for line in lines)
    # Already in its number's zone: no line (only its source is recorded, on a real run).
    assert not any(f"client {new_york} " in line for line in lines)
    assert lines[-1] == "2 zones to change, 1 explicit kept (dry run: nothing changed)"
    assert _zones() == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.kind == "client.timezone_changed")) == 0

    applied = runner.invoke(args=["clients", "fix-timezones"])
    assert applied.exit_code == 0, applied.output
    assert any(f"client {chicago} " in line and "changed to America/Chicago" in line
               for line in applied.output.splitlines())
    assert applied.output.splitlines()[-1] == "2 zones changed, 1 explicit kept"
    after = _zones()
    assert after[chicago] == ("America/Chicago", "number")
    assert after[denver] == ("America/Denver", "number")
    assert after[chosen] == ("America/New_York", "explicit")
    assert after[new_york] == ("America/New_York", "number")
    events = list(db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.kind == "client.timezone_changed").order_by(AuditEvent.id)))
    assert [(event.client_id, event.data["before"], event.data["after"]) for event in events] \
        == [(chicago, "America/New_York", "America/Chicago"),
            (denver, "America/New_York", "America/Denver")]
    assert {event.actor for event in events} == {"cli clients fix-timezones"}

    again = runner.invoke(args=["clients", "fix-timezones"])
    assert again.output.splitlines()[-1] == "0 zones changed, 1 explicit kept"


def test_fix_timezones_says_what_failed_in_one_line_and_exits_1(tmp_path, service_env):
    from ringly import create_app

    broken = create_app({"ENVIRON": service_env, "INSTANCE_PATH": str(tmp_path),
                         "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/ringly.db"})
    result = broken.test_cli_runner().invoke(args=["clients", "fix-timezones", "--dry-run"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: time zones not fixed: ")
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_a_call_to_the_312_client_books_tomorrow_at_10_am_chicago_time(
        prov, client, api_headers, sandbox):
    client_id = provision(client, api_headers, areaCode="312")
    response = client.patch(f"/api/clients/{client_id}", json={"business_hours": EVERY_DAY},
                            headers=api_headers)
    assert response.status_code == 200
    number = settings(client, api_headers, client_id)["ringlypro_number"]

    call = requests.post(f"{sandbox.url}/sandbox/calls", timeout=60, json={
        "to": number, "from": "+13125550142",
        "inputs": [{"digits": "1"}, {"digits": "1"}, {"speech": "Maria Lopez"},
                   {"digits": "1"}, {"speech": "tomorrow at 10 am"}, {"digits": "1"}]}).json()
    assert call["errors"] == [], call["errors"]
    assert "at 10 AM" in " | ".join(call["heard"])

    chicago = zone("America/Chicago")
    tomorrow = (utcnow().astimezone(chicago) + timedelta(days=1)).date()
    ten_am = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 10, tzinfo=chicago)
    db.session.remove()
    [appointment] = db.session.scalars(sa.select(Appointment))
    assert appointment.starts_at == ten_am
    [answer] = client.get(f"/api/clients/{client_id}/appointments",
                          headers=api_headers).get_json()
    assert answer["timezone"] == "America/Chicago"
    assert answer["starts_at_local"] == ten_am.isoformat()
    assert answer["starts_at_local"].startswith(f"{tomorrow.isoformat()}T10:00:00-0")
