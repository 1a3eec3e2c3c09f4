"""A number's time zone: its area code, its rate center where a code spans zones, else none."""
from __future__ import annotations

from collections import defaultdict

import phonenumbers
import pytest
from phonenumbers.timezone import time_zones_for_geographical_number
from phonenumbers.tzdata import TIMEZONE_DATA

from ringly.sandbox.inventory import EMPTY_AREA_CODES, LOCALITIES
from ringly.telephony.time_zones import (
    LOCALITY_ZONES,
    MAIN_ZONES,
    SPLIT_AREA_CODES,
    zone_for_number,
)


def _zones_by_area_code() -> dict[str, set[str]]:
    """Every zone phonenumbers names for any exchange of each NANP area code."""
    zones: dict[str, set[str]] = defaultdict(set)
    for prefix, names in TIMEZONE_DATA.items():
        if prefix.startswith("1") and len(prefix) >= 4:
            zones[prefix[1:4]].update(names)
    return zones


@pytest.mark.parametrize(("number", "zone"), [
    ("+13125550100", "America/Chicago"),
    ("+12135550100", "America/Los_Angeles"),
    ("+13035550100", "America/Denver"),
    ("+16025550100", "America/Phoenix"),
    ("+12125550100", "America/New_York"),
    ("+18085550100", "Pacific/Honolulu"),
    ("+14165550100", "America/Toronto"),
])
def test_a_local_number_takes_its_area_codes_zone(number, zone):
    found = zone_for_number(number)
    assert found is not None and found.zone == zone
    assert found.basis == f"area code {number[2:5]}"


@pytest.mark.parametrize("number", ["+18005550100", "+18885550100", "+18335550100",
                                    "+15005550006", "not a number", "+1"])
def test_toll_free_and_non_geographic_numbers_give_no_zone(number):
    assert zone_for_number(number) is None


@pytest.mark.parametrize(("locality", "zone"), [
    ("Pensacola", "America/Chicago"), ("Panama City", "America/Chicago"),
    ("Tallahassee", "America/New_York"), ("  TALLAHASSEE ", "America/New_York"),
])
def test_a_split_area_code_takes_the_zone_of_the_rate_centers_locality(locality, zone):
    # 850 spans Central (the western panhandle) and Eastern time (Tallahassee).
    found = zone_for_number("+18505550100", locality=locality, region="FL")
    assert found.zone == zone and "rate center" in found.basis


def test_a_locality_the_table_does_not_know_falls_back_to_phonenumbers():
    assert zone_for_number("+18505550100", locality="Nowhere", region="FL").basis == \
        "area code 850"
    # The table is only for split codes: Chicago's 312 is Central whatever the locality says.
    assert zone_for_number("+13125550100", locality="Tallahassee", region="FL").zone == \
        "America/Chicago"


def test_an_area_code_phonenumbers_cannot_narrow_down_takes_its_main_zone():
    assert time_zones_for_geographical_number(phonenumbers.parse("+19075550100")) == \
        ("America/Adak", "America/Anchorage")
    assert zone_for_number("+19075550100").zone == "America/Anchorage"
    assert zone_for_number("+19075550100", locality="Adak", region="AK").zone == "America/Adak"


def test_the_split_area_codes_are_exactly_those_phonenumbers_knows_in_several_zones():
    split = {code for code, zones in _zones_by_area_code().items() if len(zones) > 1}
    assert set(SPLIT_AREA_CODES) == split


def test_every_locality_zone_is_one_phonenumbers_gives_for_its_states_split_codes():
    zones = _zones_by_area_code()
    for region, localities in LOCALITY_ZONES.items():
        allowed = set().union(*(zones[code] for code, state in SPLIT_AREA_CODES.items()
                                if state == region))
        assert allowed, f"{region} has no split area code"
        for locality, zone in localities.items():
            assert zone in allowed, (region, locality, zone, allowed)


def test_every_main_zone_is_one_phonenumbers_gives_for_its_area_code():
    zones = _zones_by_area_code()
    for code, zone in MAIN_ZONES.items():
        assert zone in zones[code], (code, zone)
        # Only where phonenumbers itself cannot choose one for the code as a whole.
        number = phonenumbers.parse(f"+1{code}9990000")
        assert len(time_zones_for_geographical_number(number)) != 1


def test_every_area_code_the_sandbox_sells_has_a_zone():
    for code in set(LOCALITIES) - EMPTY_AREA_CODES:
        assert zone_for_number(f"+1{code}2345678") is not None, code
