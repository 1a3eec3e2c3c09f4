"""60 spoken dates and times (30 English, 30 Spanish) and the slot each should land on.

The same table measures Duckling (what Ringly uses) against dateparser, through the same
slot resolution, and prints both pass rates (`pytest -s` shows them; docs/voice.md records them).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import dateparser
import pytest

from ringly.booking.slots import zone
from ringly.booking.understanding import Understood, resolve, understand

TZ = "America/Chicago"
# Wednesday 2 December 2026, 08:00 in Chicago: before opening, so "today" is still bookable.
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=zone(TZ))
CLIENT = SimpleNamespace(
    timezone=TZ, slot_minutes=30,
    business_hours={**{day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
                    "sat": [["10:00", "14:00"]], "sun": []},
)

ENGLISH = [
    ("tomorrow at 10 am", "12-03 10:00"),
    ("tomorrow at 10", "12-03 10:00"),
    ("next Tuesday at 2:30", "12-08 14:30"),
    ("friday at 3 pm", "12-04 15:00"),
    ("friday at 3", "12-04 15:00"),
    ("the day after tomorrow in the morning", "12-04 09:00"),
    ("today at 4:30 pm", "12-02 16:30"),
    ("today at noon", "12-02 12:00"),
    ("noon on friday", "12-04 12:00"),
    ("monday at 9 am", "12-07 09:00"),
    ("thursday at 1:30 pm", "12-03 13:30"),
    ("thursday at 1:30", "12-03 13:30"),
    ("tomorrow afternoon", "12-03 12:00"),
    ("tomorrow morning", "12-03 09:00"),
    ("saturday at 11 am", "12-05 11:00"),
    ("saturday at 11", "12-05 11:00"),
    ("december 10 at 2 pm", "12-10 14:00"),
    ("on the 9th at 10:30 am", "12-09 10:30"),
    ("tomorrow at half past two", "12-03 14:30"),
    ("2 pm tomorrow", "12-03 14:00"),
    ("at 3 pm today", "12-02 15:00"),
    ("in two days at 11 am", "12-04 11:00"),
    ("tomorrow at 4 in the afternoon", "12-03 16:00"),
    ("friday morning", "12-04 09:00"),
    ("monday afternoon", "12-07 12:00"),
    ("tomorrow at 9:30 am", "12-03 09:30"),
    ("dec 11 at 3:30 pm", "12-11 15:30"),
    ("this friday at noon", "12-04 12:00"),
    ("tuesday at 10 in the morning", "12-08 10:00"),
    ("the day after tomorrow at 1 pm", "12-04 13:00"),
]
SPANISH = [
    ("mañana a las tres de la tarde", "12-03 15:00"),
    ("mañana a las diez", "12-03 10:00"),
    ("el viernes a las diez", "12-04 10:00"),
    ("el viernes a las tres", "12-04 15:00"),
    ("pasado mañana por la mañana", "12-04 09:00"),
    ("hoy al mediodía", "12-02 12:00"),
    ("el viernes al mediodía", "12-04 12:00"),
    ("el lunes a las nueve de la mañana", "12-07 09:00"),
    ("el jueves a la una y media", "12-03 13:30"),
    ("mañana por la tarde", "12-03 12:00"),
    ("mañana por la mañana", "12-03 09:00"),
    ("el sábado a las once", "12-05 11:00"),
    ("el 10 de diciembre a las dos de la tarde", "12-10 14:00"),
    ("el martes a las dos y media", "12-08 14:30"),
    ("hoy a las cuatro y media de la tarde", "12-02 16:30"),
    ("mañana a las 11", "12-03 11:00"),
    ("el lunes a las 3 pm", "12-07 15:00"),
    ("mañana a las nueve y media", "12-03 09:30"),
    ("el viernes por la mañana", "12-04 09:00"),
    ("el lunes por la tarde", "12-07 12:00"),
    ("pasado mañana a la una de la tarde", "12-04 13:00"),
    ("el 11 de diciembre a las tres y media", "12-11 15:30"),
    ("mañana a las 2 de la tarde", "12-03 14:00"),
    ("el jueves a las 4", "12-03 16:00"),
    ("hoy a las tres", "12-02 15:00"),
    ("el sábado a mediodía", "12-05 12:00"),
    ("mañana a las diez y media de la mañana", "12-03 10:30"),
    ("el martes a las once de la mañana", "12-08 11:00"),
    ("el viernes a las cuatro de la tarde", "12-04 16:00"),
    ("mediodía del jueves", "12-03 12:00"),
]
TABLE = [("en", text, want) for text, want in ENGLISH] + [
    ("es", text, want) for text, want in SPANISH
]


def _expected(want: str) -> datetime:
    return datetime.strptime(f"2026-{want}", "%Y-%m-%d %H:%M").replace(tzinfo=zone(TZ))


def _landed(understood: Understood | None) -> datetime | None:
    if understood is None:
        return None
    resolution = resolve(CLIENT, understood, NOW, set())
    return resolution.slot or resolution.asked


def duckling_slot(text: str, locale: str) -> datetime | None:
    return _landed(understand(text, locale, NOW, TZ))


def dateparser_slot(text: str, locale: str) -> datetime | None:
    """dateparser given the same help: both am/pm readings go through the same resolver."""
    found = dateparser.parse(text, languages=[locale], settings={
        "TIMEZONE": TZ, "RETURN_AS_TIMEZONE_AWARE": True, "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": NOW.replace(tzinfo=None)})
    if found is None:
        return None
    found = found.astimezone(zone(TZ))
    candidates = [found] + ([found + timedelta(hours=12)] if 1 <= found.hour < 12 else [])
    return _landed(Understood(candidates=tuple(candidates)))


def test_table_has_thirty_utterances_per_language():
    assert len(ENGLISH) == 30 and len(SPANISH) == 30
    assert len({text for _, text, _ in TABLE}) == 60


@pytest.mark.parametrize(("locale", "text", "want"), TABLE, ids=[t for _, t, _ in TABLE])
def test_duckling_lands_on_the_expected_slot(locale, text, want):
    assert duckling_slot(text, locale) == _expected(want)


@pytest.mark.parametrize("text", ["whenever the blue bird sings", "no sé", "purple", ""])
def test_words_without_a_time_are_not_understood(text):
    assert duckling_slot(text, "en") is None and duckling_slot(text, "es") is None


def test_pass_rates_duckling_against_dateparser(capsys):
    rates = {}
    for name, parse in (("duckling", duckling_slot), ("dateparser", dateparser_slot)):
        for locale in ("en", "es"):
            rows = [(text, want) for lang, text, want in TABLE if lang == locale]
            passed = sum(parse(text, locale) == _expected(want) for text, want in rows)
            rates[(name, locale)] = passed / len(rows)
    with capsys.disabled():
        print("\ndate/time understanding pass rate (30 EN + 30 ES utterances):")
        for (name, locale), rate in rates.items():
            print(f"  {name:<10} {locale}: {rate:6.1%}")
    assert rates[("duckling", "en")] >= rates[("dateparser", "en")]
    assert rates[("duckling", "es")] >= rates[("dateparser", "es")]
