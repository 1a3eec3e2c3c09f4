"""Sandbox number inventory, search filters, purchase rules, paging and auth, over real HTTP."""

from __future__ import annotations

import pytest
import requests

from ringly.sandbox import inventory
from ringly.telephony.area_codes import AREA_CODE_STATES


@pytest.fixture
def api(sandbox):
    """A requests session speaking to the sandbox's Twilio routes with valid credentials."""
    session = requests.Session()
    session.auth = (sandbox.account_sid, sandbox.auth_token)
    base = f"{sandbox.url}/2010-04-01/Accounts/{sandbox.account_sid}"

    def call(method: str, path: str, **kwargs) -> requests.Response:
        return session.request(method, base + path, timeout=5, **kwargs)

    yield call
    session.close()


def search(api, kind: str = "Local", **params) -> list[dict]:
    response = api("GET", f"/AvailablePhoneNumbers/US/{kind}.json", params=params)
    assert response.status_code == 200, response.text
    return response.json()["available_phone_numbers"]


def test_inventory_is_deterministic_and_covers_many_states():
    first = inventory.numbers_for_area_code("212")
    inventory.numbers_for_area_code.cache_clear()
    assert inventory.numbers_for_area_code("212") == first
    stocked = [code for code in inventory.LOCALITIES if inventory.numbers_for_area_code(code)]
    assert len(stocked) >= 40
    assert len({AREA_CODE_STATES[code] for code in stocked}) >= 8
    assert all(len(inventory.numbers_for_area_code(code)) >= 24 for code in stocked)


def test_search_filters_by_region_locality_postal_code_and_capability(api):
    texas = search(api, InRegion="tx", PageSize=1000)
    assert texas and {n["region"] for n in texas} == {"TX"}
    austin = search(api, InLocality="austin", PageSize=1000)
    assert {n["locality"] for n in austin} == {"Austin"}
    assert {n["phone_number"][:5] for n in austin} == {"+1512", "+1737"}
    by_zip = search(api, InPostalCode="10001")
    assert by_zip and {n["postal_code"] for n in by_zip} == {"10001"}
    all_212 = search(api, AreaCode="212", PageSize=1000)
    sms_212 = search(api, AreaCode="212", SmsEnabled="true", PageSize=1000)
    assert len(sms_212) < len(all_212) and all(n["capabilities"]["sms"] for n in sms_212)


def test_search_contains_supports_wildcards_and_keypad_letters(api):
    target = search(api, AreaCode="415")[0]["phone_number"]
    pattern = target[-4:-2] + "*" + target[-1]
    assert target in [n["phone_number"] for n in search(api, AreaCode="415", Contains=pattern)]
    assert all(n["phone_number"].endswith("7") for n in search(api, Contains="S$"))


def test_toll_free_and_mobile_have_their_own_inventories(api):
    toll_free = search(api, "TollFree", PageSize=1000)
    assert {n["phone_number"][2:5] for n in toll_free} == set(inventory.TOLL_FREE_PREFIXES)
    mobile = search(api, "Mobile", AreaCode="305")
    assert 0 < len(mobile) < len(search(api, AreaCode="305", PageSize=100))


def test_bought_number_leaves_search_and_returns_after_release(api):
    offered = search(api, AreaCode="650", PageSize=100)
    bought = api(
        "POST", "/IncomingPhoneNumbers.json", data={"PhoneNumber": offered[3]["phone_number"]}
    )
    assert bought.status_code == 201
    assert offered[3]["phone_number"] not in [
        n["phone_number"] for n in search(api, AreaCode="650", PageSize=100)
    ]
    assert api("DELETE", f"/IncomingPhoneNumbers/{bought.json()['sid']}.json").status_code == 204
    assert offered[3]["phone_number"] in [
        n["phone_number"] for n in search(api, AreaCode="650", PageSize=100)
    ]


def test_area_code_purchase_sells_out_then_answers_21452(api):
    stock = len(inventory.numbers_for_area_code("413"))
    for _ in range(stock):
        assert (
            api("POST", "/IncomingPhoneNumbers.json", data={"AreaCode": "413"}).status_code == 201
        )
    sold_out = api("POST", "/IncomingPhoneNumbers.json", data={"AreaCode": "413"})
    assert sold_out.status_code == 400
    assert sold_out.json() == {
        "code": 21452,
        "message": "No phone numbers found in area code 413.",
        "more_info": "https://www.twilio.com/docs/errors/21452",
        "status": 400,
    }


def test_purchase_without_number_or_area_code_is_21421(api):
    response = api("POST", "/IncomingPhoneNumbers.json", data={"FriendlyName": "x"})
    assert (response.status_code, response.json()["code"]) == (400, 21421)


def test_purchase_stores_every_webhook_field(api):
    fields = {
        "AreaCode": "312",
        "FriendlyName": "Deep Dish",
        "VoiceUrl": "https://a.example/v",
        "VoiceMethod": "GET",
        "VoiceFallbackUrl": "https://a.example/f",
        "VoiceFallbackMethod": "POST",
        "StatusCallback": "https://a.example/s",
        "StatusCallbackMethod": "POST",
        "SmsUrl": "https://a.example/sms",
        "SmsMethod": "POST",
        "SmsFallbackUrl": "https://a.example/sf",
        "SmsFallbackMethod": "GET",
    }
    number = api("POST", "/IncomingPhoneNumbers.json", data=fields).json()
    assert (number["voice_url"], number["voice_method"]) == ("https://a.example/v", "GET")
    assert (number["sms_fallback_url"], number["sms_fallback_method"]) == (
        "https://a.example/sf",
        "GET",
    )
    assert number["friendly_name"] == "Deep Dish" and number["type"] == "local"
    assert number["uri"].endswith(f"/IncomingPhoneNumbers/{number['sid']}.json")


def test_page_token_pages_stay_consistent_when_numbers_are_released_between_pages(sandbox, api):
    sids = [
        api("POST", "/IncomingPhoneNumbers.json", data={"AreaCode": "773"}).json()["sid"]
        for _ in range(5)
    ]
    first = api("GET", "/IncomingPhoneNumbers.json", params={"PageSize": 2}).json()
    assert [n["sid"] for n in first["incoming_phone_numbers"]] == sids[:2]
    api("DELETE", f"/IncomingPhoneNumbers/{sids[0]}.json")
    api("DELETE", f"/IncomingPhoneNumbers/{sids[2]}.json")
    # next_page_uri is relative to the API host, as Twilio sends it.
    second = requests.get(
        sandbox.url + first["next_page_uri"],
        auth=(sandbox.account_sid, sandbox.auth_token),
        timeout=5,
    ).json()
    assert [n["sid"] for n in second["incoming_phone_numbers"]] == [sids[3], sids[4]]
    assert second["next_page_uri"] is None


@pytest.mark.parametrize("page_size", ["0", "1001", "abc"])
def test_out_of_range_page_size_is_rejected(api, page_size):
    assert (
        api("GET", "/IncomingPhoneNumbers.json", params={"PageSize": page_size}).status_code == 400
    )


def test_wrong_account_sid_in_path_or_bad_credentials_get_20003(sandbox):
    other = "AC" + "0" * 32
    for account, auth in (
        (other, (sandbox.account_sid, sandbox.auth_token)),
        (sandbox.account_sid, (sandbox.account_sid, "nope")),
        (sandbox.account_sid, None),
    ):
        response = requests.get(
            f"{sandbox.url}/2010-04-01/Accounts/{account}/IncomingPhoneNumbers.json",
            auth=auth,
            timeout=5,
        )
        assert response.status_code == 401 and response.json()["code"] == 20003
        assert set(response.json()) == {"code", "message", "more_info", "status"}
