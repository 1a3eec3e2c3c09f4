"""Deterministic catalogue of phone numbers the sandbox can sell, per area code."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cache

from ringly.telephony.area_codes import AREA_CODE_STATES

# Enough that `CHAOS_PROVISIONS=1000 make chaos` (80% local over 10 area codes, 20% toll-free)
# and `make load` never sell out: 80 local numbers per code and 200 toll-free, plus the ones
# failed jobs still hold. Numbers are generated in a seeded sequence, so raising a count only
# appends numbers: the first ones (which tests name) stay the same.
NUMBERS_PER_AREA_CODE = 120
MOBILE_NUMBERS_PER_AREA_CODE = 8
TOLL_FREE_PREFIXES = ("800", "833", "844", "855", "866", "877", "888")
NUMBERS_PER_TOLL_FREE_PREFIX = 48

# Real-looking codes that deliberately have nothing for sale, so "no numbers here,
# try a nearby code" paths get exercised. 533 is Twilio's own magic empty code.
EMPTY_AREA_CODES = frozenset({"533", "907", "808"})

# Twilio's magic test number: always sellable (when not already owned).
MAGIC_NUMBER = "+15005550006"

# Area code -> (locality, first postal code, latitude, longitude, LATA).
LOCALITIES: dict[str, tuple[str, str, float, float, str]] = {
    "212": ("New York", "10001", 40.7506, -73.9971, "132"),
    "646": ("New York", "10016", 40.7459, -73.9781, "132"),
    "332": ("New York", "10018", 40.7549, -73.9925, "132"),
    "917": ("New York", "10019", 40.7654, -73.9856, "132"),
    "718": ("Brooklyn", "11201", 40.6943, -73.9903, "132"),
    "347": ("Bronx", "10451", 40.8200, -73.9235, "132"),
    "929": ("Queens", "11101", 40.7447, -73.9485, "132"),
    "516": ("Hempstead", "11550", 40.7062, -73.6187, "132"),
    "914": ("Yonkers", "10701", 40.9312, -73.8988, "132"),
    "518": ("Albany", "12207", 42.6526, -73.7562, "130"),
    "585": ("Rochester", "14604", 43.1566, -77.6088, "136"),
    "716": ("Buffalo", "14202", 42.8864, -78.8784, "138"),
    "415": ("San Francisco", "94102", 37.7793, -122.4193, "722"),
    "628": ("San Francisco", "94103", 37.7726, -122.4099, "722"),
    "510": ("Oakland", "94612", 37.8044, -122.2712, "722"),
    "341": ("Oakland", "94607", 37.8049, -122.2800, "722"),
    "650": ("Palo Alto", "94301", 37.4419, -122.1430, "722"),
    "408": ("San Jose", "95113", 37.3382, -121.8863, "722"),
    "669": ("San Jose", "95110", 37.3500, -121.9000, "722"),
    "213": ("Los Angeles", "90012", 34.0522, -118.2437, "730"),
    "323": ("Los Angeles", "90028", 34.1016, -118.3267, "730"),
    "310": ("Santa Monica", "90401", 34.0195, -118.4912, "730"),
    "424": ("Torrance", "90501", 33.8358, -118.3406, "730"),
    "619": ("San Diego", "92101", 32.7157, -117.1611, "732"),
    "858": ("San Diego", "92121", 32.8998, -117.2023, "732"),
    "916": ("Sacramento", "95814", 38.5816, -121.4944, "726"),
    "512": ("Austin", "78701", 30.2672, -97.7431, "558"),
    "737": ("Austin", "78702", 30.2638, -97.7146, "558"),
    "214": ("Dallas", "75201", 32.7767, -96.7970, "552"),
    "469": ("Dallas", "75202", 32.7809, -96.8004, "552"),
    "972": ("Plano", "75074", 33.0198, -96.6989, "552"),
    "713": ("Houston", "77002", 29.7604, -95.3698, "560"),
    "281": ("Houston", "77060", 29.9380, -95.3990, "560"),
    "832": ("Houston", "77007", 29.7713, -95.4100, "560"),
    "210": ("San Antonio", "78205", 29.4241, -98.4936, "566"),
    "305": ("Miami", "33130", 25.7617, -80.1918, "460"),
    "786": ("Miami", "33131", 25.7663, -80.1917, "460"),
    "407": ("Orlando", "32801", 28.5383, -81.3792, "458"),
    "813": ("Tampa", "33602", 27.9506, -82.4572, "952"),
    "904": ("Jacksonville", "32202", 30.3322, -81.6557, "452"),
    "312": ("Chicago", "60601", 41.8858, -87.6229, "358"),
    "773": ("Chicago", "60614", 41.9214, -87.6513, "358"),
    "872": ("Chicago", "60607", 41.8748, -87.6514, "358"),
    "630": ("Naperville", "60540", 41.7508, -88.1535, "358"),
    "847": ("Evanston", "60201", 42.0451, -87.6877, "358"),
    "206": ("Seattle", "98101", 47.6101, -122.3344, "674"),
    "425": ("Bellevue", "98004", 47.6101, -122.2015, "674"),
    "253": ("Tacoma", "98402", 47.2529, -122.4443, "674"),
    "360": ("Olympia", "98501", 47.0379, -122.9007, "674"),
    "564": ("Olympia", "98502", 47.0425, -122.9300, "674"),
    "509": ("Spokane", "99201", 47.6588, -117.4260, "676"),
    "617": ("Boston", "02108", 42.3601, -71.0589, "128"),
    "857": ("Boston", "02110", 42.3570, -71.0510, "128"),
    "781": ("Waltham", "02451", 42.3765, -71.2356, "128"),
    "508": ("Worcester", "01608", 42.2626, -71.8023, "128"),
    "413": ("Springfield", "01103", 42.1015, -72.5898, "126"),
    "404": ("Atlanta", "30303", 33.7490, -84.3880, "438"),
    "678": ("Atlanta", "30308", 33.7710, -84.3760, "438"),
    "470": ("Atlanta", "30309", 33.7980, -84.3880, "438"),
    "770": ("Marietta", "30060", 33.9526, -84.5499, "438"),
    "912": ("Savannah", "31401", 32.0809, -81.0912, "444"),
    "303": ("Denver", "80202", 39.7392, -104.9903, "656"),
    "720": ("Denver", "80203", 39.7312, -104.9826, "656"),
    "719": ("Colorado Springs", "80903", 38.8339, -104.8214, "656"),
    "970": ("Fort Collins", "80521", 40.5853, -105.0844, "656"),
    "602": ("Phoenix", "85004", 33.4484, -112.0740, "666"),
    "480": ("Mesa", "85201", 33.4152, -111.8315, "666"),
    "623": ("Glendale", "85301", 33.5387, -112.1860, "666"),
    "520": ("Tucson", "85701", 32.2226, -110.9747, "668"),
    "907": ("Anchorage", "99501", 61.2181, -149.9003, "832"),
    "808": ("Honolulu", "96813", 21.3069, -157.8583, "834"),
    # Appended (the catalogue lists codes in this order): a code whose rate centers lie in two
    # zones, its numbers shared with MORE_LOCALITIES' below.
    "850": ("Pensacola", "32501", 30.4213, -87.2169, "448"),
}

# Area codes with several localities (rate centers), as a code spanning two time zones has:
# LOCALITIES' entry first, then these; number i of the code's sequence is in locality
# i mod (their count). 850: Pensacola and Panama City keep Central time, Tallahassee Eastern.
# A code not here has one locality, and its numbers are what they were.
MORE_LOCALITIES: dict[str, tuple[tuple[str, str, float, float, str], ...]] = {
    "850": (("Tallahassee", "32301", 30.4383, -84.2807, "953"),
            ("Panama City", "32401", 30.1588, -85.6602, "450")),
}

_KEYPAD = {
    **dict.fromkeys("ABC", "2"), **dict.fromkeys("DEF", "3"), **dict.fromkeys("GHI", "4"),
    **dict.fromkeys("JKL", "5"), **dict.fromkeys("MNO", "6"), **dict.fromkeys("PQRS", "7"),
    **dict.fromkeys("TUV", "8"), **dict.fromkeys("WXYZ", "9"),
}  # fmt: skip


@dataclass(frozen=True)
class CatalogNumber:
    """One number for sale, with the facts Twilio's search answer carries."""

    phone_number: str
    number_type: str  # "local" | "toll-free" | "mobile"
    area_code: str
    locality: str | None
    region: str | None
    postal_code: str | None
    latitude: str | None
    longitude: str | None
    rate_center: str | None
    lata: str | None
    voice: bool
    sms: bool
    mms: bool

    @property
    def friendly_name(self) -> str:
        return format_national(self.phone_number)

    def capabilities(self) -> dict[str, bool]:
        return {"voice": self.voice, "sms": self.sms, "mms": self.mms, "fax": False}


def format_national(phone_number: str) -> str:
    """Format a +1 number the way Twilio names it: ``(415) 555-0100``."""
    digits = phone_number[2:] if phone_number.startswith("+1") else phone_number.lstrip("+")
    if len(digits) != 10:
        return phone_number
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def _unique_lines(seed: str, count: int, exchanges: range) -> list[str]:
    # Seeded by the code itself so every run (and every restart) sells the same numbers.
    rng = random.Random(f"ringly-sandbox-{seed}")
    seen: set[str] = set()
    lines: list[str] = []
    while len(lines) < count:
        exchange = rng.choice(exchanges)
        if exchange % 100 == 11 or exchange == 555:  # N11 and 555 are never assigned
            continue
        line = f"{exchange}{rng.randrange(10000):04d}"
        if line not in seen:
            seen.add(line)
            lines.append(line)
    return lines


@cache
def numbers_for_area_code(area_code: str, number_type: str = "local") -> tuple[CatalogNumber, ...]:
    """Every number (bought or not) of ``area_code`` for ``local`` or ``mobile``."""
    if area_code in EMPTY_AREA_CODES or area_code not in LOCALITIES:
        return ()
    localities = (LOCALITIES[area_code], *MORE_LOCALITIES.get(area_code, ()))
    mobile = number_type == "mobile"
    count = MOBILE_NUMBERS_PER_AREA_CODE if mobile else NUMBERS_PER_AREA_CODE
    # Disjoint exchange ranges keep local and mobile numbers from colliding.
    exchanges = range(700, 990) if mobile else range(200, 700)
    numbers = []
    for index, line in enumerate(_unique_lines(f"{number_type}-{area_code}", count, exchanges)):
        locality, first_zip, lat, lon, lata = localities[index % len(localities)]
        nth = index // len(localities)  # its place among its locality's numbers
        sms = mobile or index % 6 != 5  # every sixth local number is voice-only
        numbers.append(
            CatalogNumber(
                phone_number=f"+1{area_code}{line}",
                number_type=number_type,
                area_code=area_code,
                locality=locality,
                region=AREA_CODE_STATES[area_code],
                postal_code=f"{int(first_zip) + nth % 3:05d}",
                latitude=f"{lat + (nth % 7) * 0.003:.6f}",
                longitude=f"{lon - (nth % 5) * 0.003:.6f}",
                rate_center=locality.upper().replace(" ", "")[:10],
                lata=lata,
                voice=True,
                sms=sms,
                mms=sms and index % 4 != 3,
            )
        )
    return tuple(numbers)


@cache
def toll_free_numbers() -> tuple[CatalogNumber, ...]:
    """Every toll-free number the sandbox sells, across all toll-free prefixes."""
    numbers = []
    for prefix in TOLL_FREE_PREFIXES:
        for line in _unique_lines(
            f"toll-free-{prefix}", NUMBERS_PER_TOLL_FREE_PREFIX, range(200, 1000)
        ):
            numbers.append(
                CatalogNumber(
                    phone_number=f"+1{prefix}{line}", number_type="toll-free", area_code=prefix,
                    locality=None, region=None, postal_code=None, latitude=None, longitude=None,
                    rate_center=None, lata=None, voice=True, sms=True, mms=False,
                )
            )  # fmt: skip
    return tuple(numbers)


def magic_number() -> CatalogNumber:
    """Twilio's test number +15005550006, sold as an ordinary local number."""
    return CatalogNumber(
        phone_number=MAGIC_NUMBER, number_type="local", area_code="500", locality=None,
        region=None, postal_code=None, latitude=None, longitude=None, rate_center=None,
        lata=None, voice=True, sms=True, mms=True,
    )  # fmt: skip


def catalog(number_type: str) -> list[CatalogNumber]:
    """Every number of one type, in a stable order (area code, then generation order)."""
    if number_type == "toll-free":
        return list(toll_free_numbers())
    numbers = [n for code in LOCALITIES for n in numbers_for_area_code(code, number_type)]
    if number_type == "local":
        numbers.append(magic_number())
    return numbers


def find_in_catalog(phone_number: str) -> CatalogNumber | None:
    """Look a number up across local, mobile, toll-free and the magic number."""
    if phone_number == MAGIC_NUMBER:
        return magic_number()
    digits = phone_number[2:] if phone_number.startswith("+1") else ""
    area_code = digits[:3]
    if area_code in TOLL_FREE_PREFIXES:
        pool: tuple[CatalogNumber, ...] = toll_free_numbers()
    else:
        pool = numbers_for_area_code(area_code, "local") + numbers_for_area_code(
            area_code, "mobile"
        )
    return next((n for n in pool if n.phone_number == phone_number), None)


def contains_pattern(contains: str) -> re.Pattern[str] | None:
    """Compile Twilio's ``Contains`` filter: letters map to keypad digits, ``*`` is one digit.

    ``%`` matches any run, a leading ``+`` anchors at the start of the E.164 number and a
    trailing ``$`` at its end. Returns None for an unusable pattern.
    """
    text = contains.strip().upper()
    anchored_start = text.startswith("+")
    anchored_end = text.endswith("$")
    text = text.lstrip("+").rstrip("$")
    parts = []
    for char in text:
        if char.isdigit():
            parts.append(char)
        elif char in _KEYPAD:
            parts.append(_KEYPAD[char])
        elif char == "*":
            parts.append(r"\d")
        elif char == "%":
            parts.append(r"\d*")
        else:
            return None
    if not parts:
        return None
    body = "".join(parts)
    return re.compile(("^\\+" if anchored_start else "") + body + ("$" if anchored_end else ""))
