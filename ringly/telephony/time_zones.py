"""Which time zone a phone number is in: its area code, or its rate center where codes span two."""
from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers.timezone import time_zones_for_geographical_number

# NANP toll-free codes: a number in them is reachable from everywhere and says nothing of where
# the business is.
TOLL_FREE_AREA_CODES = frozenset({"800", "833", "844", "855", "866", "877", "888"})
UNKNOWN_ZONE = "Etc/Unknown"

# Area codes whose exchanges lie in more than one zone (phonenumbers knows many of them exchange
# by exchange, not all), with their state or province. tests/telephony/test_time_zones.py checks
# the list against phonenumbers' own data.
SPLIT_AREA_CODES: dict[str, str] = {
    "208": "ID", "986": "ID", "219": "IN", "574": "IN", "812": "IN", "270": "KY", "606": "KY",
    "308": "NE", "423": "TN", "541": "OR", "605": "SD", "620": "KS", "785": "KS", "701": "ND",
    "775": "NV", "850": "FL", "906": "MI", "907": "AK", "928": "AZ", "250": "BC", "418": "QC",
    "709": "NL", "807": "ON", "867": "NT", "879": "NL",
}  # fmt: skip

# In those states, the zone of a rate center's locality as Twilio's search answer names it
# (`locality`, `region`), lower case. Each zone is one phonenumbers gives for the state's split
# codes, so the table never says something phonenumbers could not.
LOCALITY_ZONES: dict[str, dict[str, str]] = {
    "FL": {
        **dict.fromkeys(("pensacola", "panama city", "fort walton beach", "destin", "crestview",
                         "niceville", "navarre", "milton", "defuniak springs", "marianna",
                         "chipley"), "America/Chicago"),
        **dict.fromkeys(("tallahassee", "quincy", "monticello", "perry", "apalachicola",
                         "port st. joe", "carrabelle"), "America/New_York"),
    },
    "KY": {
        **dict.fromkeys(("bowling green", "owensboro", "paducah", "hopkinsville", "madisonville",
                         "murray", "mayfield", "henderson", "glasgow", "russellville", "albany",
                         "burkesville"), "America/Chicago"),
        **dict.fromkeys(("elizabethtown", "radcliff", "campbellsville", "ashland", "pikeville",
                         "london", "somerset", "hazard", "corbin", "middlesboro"),
                        "America/New_York"),
    },
    "TN": {
        **dict.fromkeys(("chattanooga", "cleveland", "johnson city", "kingsport", "bristol",
                         "morristown", "greeneville", "athens"), "America/New_York"),
        **dict.fromkeys(("jasper", "south pittsburg", "dunlap"), "America/Chicago"),
    },
    "IN": {
        **dict.fromkeys(("gary", "hammond", "merrillville", "valparaiso", "crown point",
                         "portage", "michigan city", "la porte", "knox", "north judson",
                         "evansville", "newburgh", "mount vernon", "princeton", "boonville",
                         "tell city"), "America/Chicago"),
        **dict.fromkeys(("south bend", "elkhart", "mishawaka", "goshen", "warsaw", "plymouth",
                         "logansport", "jasper", "vincennes", "bloomington", "columbus",
                         "terre haute", "new albany", "jeffersonville", "madison"),
                        "America/New_York"),
    },
    "MI": {
        **dict.fromkeys(("marquette", "sault ste. marie", "escanaba", "houghton", "munising",
                         "st. ignace"), "America/New_York"),
        **dict.fromkeys(("iron mountain", "menominee", "ironwood", "iron river"),
                        "America/Chicago"),
    },
    "NE": {
        **dict.fromkeys(("north platte", "grand island", "kearney", "hastings", "lexington",
                         "mccook"), "America/Chicago"),
        **dict.fromkeys(("scottsbluff", "gering", "alliance", "sidney", "chadron", "ogallala",
                         "kimball"), "America/Denver"),
    },
    "KS": {
        **dict.fromkeys(("dodge city", "garden city", "hutchinson", "emporia", "pittsburg",
                         "liberal", "great bend", "topeka", "lawrence", "manhattan", "salina",
                         "hays", "junction city", "colby"), "America/Chicago"),
        **dict.fromkeys(("syracuse", "tribune", "goodland", "sharon springs"), "America/Denver"),
    },
    "ND": {
        **dict.fromkeys(("fargo", "bismarck", "grand forks", "minot", "williston", "jamestown",
                         "mandan", "valley city", "devils lake"), "America/Chicago"),
        **dict.fromkeys(("dickinson", "beach", "bowman", "hettinger"), "America/Denver"),
    },
    "SD": {
        **dict.fromkeys(("sioux falls", "aberdeen", "brookings", "watertown", "mitchell",
                         "yankton", "huron", "pierre"), "America/Chicago"),
        **dict.fromkeys(("rapid city", "spearfish", "sturgis", "belle fourche", "hot springs"),
                        "America/Denver"),
    },
    "ID": {
        **dict.fromkeys(("boise", "nampa", "meridian", "idaho falls", "pocatello", "twin falls",
                         "caldwell", "rexburg"), "America/Boise"),
        **dict.fromkeys(("coeur d'alene", "lewiston", "moscow", "sandpoint", "post falls"),
                        "America/Los_Angeles"),
    },
    "OR": {
        **dict.fromkeys(("eugene", "bend", "medford", "corvallis", "albany", "roseburg",
                         "grants pass", "klamath falls", "pendleton"), "America/Los_Angeles"),
        **dict.fromkeys(("ontario", "nyssa", "vale"), "America/Denver"),
    },
    "NV": {
        **dict.fromkeys(("reno", "sparks", "carson city", "elko", "fallon", "winnemucca"),
                        "America/Los_Angeles"),
        "west wendover": "America/Denver",
    },
    "AZ": {
        **dict.fromkeys(("flagstaff", "yuma", "prescott", "kingman", "sedona",
                         "lake havasu city", "show low"), "America/Phoenix"),
        # The Navajo Nation keeps daylight saving time; the rest of Arizona does not.
        **dict.fromkeys(("window rock", "tuba city", "kayenta", "chinle"), "America/Denver"),
    },
    "AK": {
        **dict.fromkeys(("anchorage", "fairbanks", "wasilla", "kenai"), "America/Anchorage"),
        "juneau": "America/Juneau",
        "adak": "America/Adak",
    },
    "BC": {
        **dict.fromkeys(("victoria", "kelowna", "kamloops", "nanaimo", "prince george"),
                        "America/Vancouver"),
        **dict.fromkeys(("cranbrook", "fernie", "invermere", "golden"), "America/Edmonton"),
    },
    "NL": {
        **dict.fromkeys(("st. john's", "corner brook", "gander"), "America/St_Johns"),
        **dict.fromkeys(("labrador city", "wabush"), "America/Halifax"),
    },
    "ON": {
        "thunder bay": "America/Toronto",
        **dict.fromkeys(("kenora", "dryden", "sioux lookout", "fort frances"),
                        "America/Winnipeg"),
    },
}

# Where phonenumbers names several zones for a whole area code (or none), and neither the
# locality nor the exchange decides: the zone most of the code's people live in.
MAIN_ZONES: dict[str, str] = {
    "208": "America/Boise", "986": "America/Boise", "605": "America/Chicago",
    "701": "America/Chicago", "775": "America/Los_Angeles", "907": "America/Anchorage",
    "709": "America/St_Johns", "879": "America/St_Johns",
}  # fmt: skip


@dataclass(frozen=True)
class NumberZone:
    """A number's time zone and what decided it (said in the CLI's lines and audit events)."""

    zone: str
    basis: str


def _locality_key(locality: str) -> str:
    return " ".join(locality.casefold().split())


def zone_for_number(phone_number: str, *, locality: str | None = None,
                    region: str | None = None) -> NumberZone | None:
    """The zone of a geographic number, or None when the number says nothing about where its
    business is (toll-free, non-geographic, unparsable): the caller then uses its default.

    In order: the rate center's locality where its area code spans zones (LOCALITY_ZONES), the
    zone phonenumbers gives for the number's exchange or area code when it gives one, the main
    zone of an area code phonenumbers cannot narrow down (MAIN_ZONES)."""
    try:
        parsed = phonenumbers.parse(phone_number, None)
    except phonenumbers.NumberParseException:
        return None
    national = str(parsed.national_number)
    nanp = parsed.country_code == 1 and len(national) == 10
    area_code = national[:3] if nanp else None
    if area_code in TOLL_FREE_AREA_CODES or \
            phonenumbers.number_type(parsed) == PhoneNumberType.TOLL_FREE:
        return None
    if nanp and area_code in SPLIT_AREA_CODES and locality and region:
        zone = LOCALITY_ZONES.get(region.strip().upper(), {}).get(_locality_key(locality))
        if zone is not None:
            return NumberZone(zone, f"rate center {locality}, {region} in area code {area_code}")
    zones = [zone for zone in time_zones_for_geographical_number(parsed) if zone != UNKNOWN_ZONE]
    where = f"area code {area_code}" if nanp else f"prefix +{parsed.country_code}"
    if len(zones) == 1:
        return NumberZone(zones[0], where)
    if area_code in MAIN_ZONES:
        return NumberZone(MAIN_ZONES[area_code], f"{where} (its main zone)")
    return None
