"""A client's forwarding number passes the destination policy at the API: the bot dials it for
every caller who asks for a person, so a premium-rate or foreign number is a 422 naming why."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from ringly.clients.models import Client
from ringly.db import db
from tests.voice.conftest import make_client


def _forwarding(app, client_id: int) -> str | None:
    with app.app_context():
        number = db.session.get(Client, client_id).forwarding_number
        db.session.remove()
    return number


@pytest.mark.parametrize(("number", "reason", "words"), [
    ("+19002001234", "number_type_not_allowed", "premium-rate numbers are not allowed"),
    ("+18005551234", "number_type_not_allowed", "toll-free numbers are not allowed"),
    ("+442079460000", "country_not_allowed", "numbers in GB are not allowed"),
    ("+12345678", "invalid_number", "not a valid phone number"),
])
def test_a_forwarding_number_the_policy_refuses_is_a_422_naming_the_reason(
        app, client, api_headers, number, reason, words):
    client_id = make_client(app, forwarding_number="+13125550123")
    response = client.patch(f"/api/clients/{client_id}", headers=api_headers,
                            json={"forwarding_number": number, "custom_greeting": "Hi"})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["reason"] == reason and words in problem["detail"]
    assert words in problem["errors"]["forwarding_number"][0]
    assert _forwarding(app, client_id) == "+13125550123"  # nothing changed
    with app.app_context():
        assert db.session.scalar(sa.select(Client.custom_greeting)) is None
        db.session.remove()


def test_a_local_forwarding_number_is_accepted_and_can_be_cleared(app, client, api_headers):
    client_id = make_client(app)
    response = client.patch(f"/api/clients/{client_id}", headers=api_headers,
                            json={"forwarding_number": "+13125550123"})
    assert response.status_code == 200 and response.get_json()["forwarding_number"] == \
        "+13125550123"
    cleared = client.patch(f"/api/clients/{client_id}", headers=api_headers,
                           json={"forwarding_number": None})
    assert cleared.status_code == 200 and _forwarding(app, client_id) is None


def test_allowed_countries_setting_admits_a_forwarding_number_abroad(app, client, api_headers,
                                                                     monkeypatch):
    monkeypatch.setitem(app.config, "ALLOWED_DESTINATION_COUNTRIES", ("US", "GB"))
    client_id = make_client(app)
    response = client.patch(f"/api/clients/{client_id}", headers=api_headers,
                            json={"forwarding_number": "+442079460000"})
    assert response.status_code == 200
    premium = client.patch(f"/api/clients/{client_id}", headers=api_headers,
                           json={"forwarding_number": "+448712345678"})
    assert premium.status_code == 422 and premium.get_json()["reason"] == \
        "number_type_not_allowed"


@pytest.mark.parametrize("number", ["+1415555267\uff11", "+1\u0664155550123", "+1415555\u09e8670"])
def test_digits_of_other_scripts_are_no_phone_number(app, client, api_headers, number):
    # Python's \d and isdigit() take "１" or "٤"; no phone network does, and the number would
    # have been stored and dialled as given.
    client_id = make_client(app, forwarding_number="+13125550123")
    response = client.patch(f"/api/clients/{client_id}", headers=api_headers,
                            json={"forwarding_number": number})
    assert response.status_code == 422
    assert _forwarding(app, client_id) == "+13125550123"


@pytest.mark.parametrize("body", [{"areaCode": "41\u0665"}, {"phoneNumber": "+1415555\uff10100"}])
def test_a_provision_with_digits_of_other_scripts_is_refused(app, client, api_headers, body):
    response = client.post("/api/clients/provision", headers=api_headers, json={
        "business_name": "Bella Salon", "email": "owner@bella.example", **body})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


def test_the_destination_policy_refuses_digits_of_other_scripts(app):
    from ringly.destinations import check_destination

    with app.app_context():
        assert check_destination("+1415555267\uff11", ["US"]).code == "not_a_phone_number"
        assert check_destination("+14155552671", ["US"]) is None
