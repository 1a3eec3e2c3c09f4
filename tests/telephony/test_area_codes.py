"""Area-code table: states and nearby codes (overlays first) for provisioning fallbacks."""

from __future__ import annotations

from ringly.telephony.area_codes import AREA_CODE_STATES, nearby_area_codes, state_for_area_code


def test_state_for_area_code_knows_major_metros_and_not_fake_codes():
    assert state_for_area_code("212") == "NY"
    assert state_for_area_code("415") == "CA"
    assert state_for_area_code("533") is None
    assert len(AREA_CODE_STATES) >= 40


def test_nearby_area_codes_lists_overlays_before_the_rest_of_the_state():
    nearby = nearby_area_codes("212")
    assert nearby[:3] == ["646", "332", "917"]
    assert "718" in nearby and "212" not in nearby
    assert {state_for_area_code(code) for code in nearby} == {"NY"}


def test_nearby_area_codes_of_single_code_states_and_unknown_codes_are_empty():
    assert nearby_area_codes("907") == []
    assert nearby_area_codes("533") == []
