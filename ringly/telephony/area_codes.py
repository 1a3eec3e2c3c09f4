"""Static table of US area codes by state, with overlays, for choosing nearby codes."""

from __future__ import annotations

# Area code -> state (USPS code). Insertion order within a state is the order in which
# nearby codes are offered after the overlays, roughly from the biggest metro outwards.
AREA_CODE_STATES: dict[str, str] = {
    # New York
    "212": "NY", "646": "NY", "332": "NY", "917": "NY", "718": "NY", "347": "NY",
    "929": "NY", "516": "NY", "914": "NY", "518": "NY", "585": "NY", "716": "NY",
    # California
    "415": "CA", "628": "CA", "510": "CA", "341": "CA", "650": "CA", "408": "CA",
    "669": "CA", "213": "CA", "323": "CA", "310": "CA", "424": "CA", "619": "CA",
    "858": "CA", "916": "CA",
    # Texas
    "512": "TX", "737": "TX", "214": "TX", "469": "TX", "972": "TX", "713": "TX",
    "281": "TX", "832": "TX", "210": "TX",
    # Florida
    "305": "FL", "786": "FL", "407": "FL", "813": "FL", "904": "FL", "850": "FL",
    # Illinois
    "312": "IL", "773": "IL", "872": "IL", "630": "IL", "847": "IL",
    # Washington
    "206": "WA", "425": "WA", "253": "WA", "360": "WA", "564": "WA", "509": "WA",
    # Massachusetts
    "617": "MA", "857": "MA", "781": "MA", "508": "MA", "413": "MA",
    # Georgia
    "404": "GA", "678": "GA", "470": "GA", "770": "GA", "912": "GA",
    # Colorado
    "303": "CO", "720": "CO", "719": "CO", "970": "CO",
    # Arizona
    "602": "AZ", "480": "AZ", "623": "AZ", "520": "AZ",
    # Alaska and Hawaii: single-code states
    "907": "AK", "808": "HI",
}  # fmt: skip

# Codes that serve the same territory (an overlay shares every exchange area with its
# partners), so a business in one of them is equally local in the others.
OVERLAY_GROUPS: tuple[tuple[str, ...], ...] = (
    ("212", "646", "332", "917"),
    ("718", "347", "929", "917"),
    ("415", "628"),
    ("510", "341"),
    ("408", "669"),
    ("213", "323"),
    ("310", "424"),
    ("619", "858"),
    ("512", "737"),
    ("214", "469", "972"),
    ("713", "281", "832"),
    ("305", "786"),
    ("312", "872"),
    ("773", "872"),
    ("360", "564"),
    ("617", "857"),
    ("404", "678", "470", "770"),
    ("303", "720"),
)


def state_for_area_code(area_code: str) -> str | None:
    """Return the USPS state code served by ``area_code``, or None when unknown."""
    return AREA_CODE_STATES.get(str(area_code).strip())


def overlays_of(area_code: str) -> list[str]:
    """Return the codes overlaying ``area_code`` (excluding itself), in table order."""
    code = str(area_code).strip()
    found: list[str] = []
    for group in OVERLAY_GROUPS:
        if code in group:
            found.extend(other for other in group if other != code and other not in found)
    return found


def area_codes_in_state(state: str) -> list[str]:
    """Return every known area code of ``state`` (USPS code), in table order."""
    wanted = state.strip().upper()
    return [code for code, code_state in AREA_CODE_STATES.items() if code_state == wanted]


def nearby_area_codes(area_code: str) -> list[str]:
    """Return other codes of the same state: overlays first, then the rest of the state."""
    code = str(area_code).strip()
    state = state_for_area_code(code)
    if state is None:
        return []
    nearby = overlays_of(code)
    nearby.extend(
        other for other in area_codes_in_state(state) if other != code and other not in nearby
    )
    return nearby
