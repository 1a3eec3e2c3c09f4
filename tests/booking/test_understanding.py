"""The utterance table (tests/booking/utterances.py) read by the parser, and the pieces Ringly adds
around Duckling: the rewrites before it reads, the past-time reading, and the choice reader of
the pick step.

The same table measures Duckling with Ringly's rewrites (what Ringly uses), Duckling alone and
dateparser, through the same slot resolution, and prints the pass rates (`pytest -s` shows
them; docs/voice.md records them). tests/voice/test_utterances_by_call.py books every row
through a whole call.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import dateparser
import pytest

from ringly.booking.rewrites import (
    drop_fillers,
    english_offsets,
    english_parts_of_day,
    spanish_offsets,
    spanish_phrases,
)
from ringly.booking.slots import zone
from ringly.booking.understanding import Understood, read_with_duckling, resolve, understand
from ringly.voice.answers import LAST, offered_choice
from tests.booking.utterances import (
    ENGLISH,
    HOURS,
    NOW,
    PICKS,
    SLOT_MINUTES,
    SPANISH,
    TIMES,
    TZ,
    Utterance,
    row_id,
)

CLIENT = SimpleNamespace(timezone=TZ, slot_minutes=SLOT_MINUTES, business_hours=HOURS)
# The original table: the first 30 rows of each language.
ORIGINAL = ENGLISH[:30] + SPANISH[:30]


def _landed(understood: Understood | None, now: datetime) -> datetime | None:
    if understood is None:
        return None
    resolution = resolve(CLIENT, understood, now, set())
    return resolution.slot or resolution.asked


def duckling_slot(row: Utterance) -> datetime | None:
    """What Ringly reads: Duckling after the rewrites."""
    now = row.local("now")
    return _landed(understand(row.text, row.locale, now, TZ), now)


def duckling_alone_slot(row: Utterance) -> datetime | None:
    now = row.local("now")
    return _landed(read_with_duckling(row.text, row.locale, now, TZ), now)


def dateparser_slot(row: Utterance) -> datetime | None:
    """dateparser given the same help: both am/pm readings go through the same resolver."""
    now = row.local("now")
    found = dateparser.parse(row.text, languages=[row.locale], settings={
        "TIMEZONE": TZ, "RETURN_AS_TIMEZONE_AWARE": True, "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": now.replace(tzinfo=None)})
    if found is None:
        return None
    found = found.astimezone(zone(TZ))
    candidates = [found] + ([found + timedelta(hours=12)] if 1 <= found.hour < 12 else [])
    return _landed(Understood(candidates=tuple(candidates)), now)


def test_the_original_sixty_rows_are_still_in_the_table():
    assert len(ORIGINAL) == 60 and all(row.first is None for row in ORIGINAL)
    assert ORIGINAL[0].text == "tomorrow at 10 am" and ORIGINAL[30].text == (
        "mañana a las tres de la tarde")


@pytest.mark.parametrize("row", TIMES, ids=row_id)
def test_every_time_in_the_table_lands_on_its_slot(row):
    assert duckling_slot(row) == row.local("slot")


@pytest.mark.parametrize("row", PICKS, ids=row_id)
def test_every_pick_in_the_table_names_its_offered_time(row):
    if row.keys:
        assert int(row.text) == row.pick
    else:
        choice = offered_choice(row.text)
        assert (3 if choice == LAST else choice) == row.pick


@pytest.mark.parametrize("text", ["whenever the blue bird sings", "no sé", "purple", "", "um, eh"])
def test_words_without_a_time_are_not_understood(text):
    now = Utterance("en", text, NOW).local("now")
    assert understand(text, "en", now, TZ) is None and understand(text, "es", now, TZ) is None


# -- the rewrites before Duckling ------------------------------------------------------------
@pytest.mark.parametrize(("locale", "said", "read"), [
    ("en", "um, tomorrow, like, at 10", "tomorrow at 10"),
    ("en", "uhh tomorrow at, erm, 2 pm I think", "tomorrow at 2 pm"),
    ("en", "hmm... well, so, friday at 3", "friday at 3"),
    ("en", "I'd like tomorrow at 10", "I'd tomorrow at 10"),
    ("en", "May 5 at 10", "May 5 at 10"),  # "may" is a month, not a hedge
    ("es", "eh, tal vez mañana a las diez", "mañana a las diez"),
    ("es", "mañana eh a las 3 de la tarde", "mañana a las 3 de la tarde"),
    ("es", "este, mañana a las once", "mañana a las once"),
    ("es", "este viernes a las tres", "este viernes a las tres"),  # "este" pointing: kept
    ("es", "mmm, a ver, pues, quizás el lunes", "el lunes"),
])
def test_fillers_are_dropped_and_pauses_closed_up(locale, said, read):
    assert drop_fillers(said, locale) == read


@pytest.mark.parametrize(("said", "read"), [
    ("en 3 días a las diez", "el 5 de diciembre a las diez"),
    ("dentro de tres días", "el 5 de diciembre"),
    ("dentro de una semana a las 11", "el 9 de diciembre a las 11"),
    ("en dos semanas", "el 16 de diciembre"),
    ("en 30 días", "el 1 de enero de 2027"),  # another year is named
    ("de hoy en ocho a las 10", "el 9 de diciembre a las 10"),  # the idiom: a week
    ("de mañana en quince días", "el 17 de diciembre"),
    ("en ocho días", "el 10 de diciembre"),  # said plainly, eight days
    ("en la tarde", "en la tarde"),  # no number: nothing to rewrite
    ("de aquí a tres días a las diez", "el 5 de diciembre a las diez"),
    ("de aqui a 2 semanas", "el 16 de diciembre"),
    ("dentro de un par de días", "el 4 de diciembre"),
    ("en un par de semanas", "el 16 de diciembre"),
    ("el lunes en ocho a las 10", "el 14 de diciembre a las 10"),  # a week from Monday
    ("del viernes en quince", "el 18 de diciembre"),
])
def test_spanish_offsets_become_the_date_they_mean(said, read):
    assert spanish_offsets(said, Utterance("es", said, NOW).local("now")) == read


@pytest.mark.parametrize(("said", "read"), [
    ("el martes de la semana que viene a las 11", "el martes de la próxima semana a las 11"),
    ("el martes que viene", "el próximo martes"),
    ("mañana como a las diez", "mañana a las diez"),
    ("el viernes a eso de las tres", "el viernes a las tres"),
    ("a las 7 en la noche", "a las 7 de la noche"),
    ("hoy al mediodía", "hoy a las 12"),
    ("el martes de la semana próxima a las diez", "el martes de la próxima semana a las diez"),
    ("la semana próxima el jueves", "la próxima semana el jueves"),
    ("el martes de la otra semana", "el martes de la próxima semana"),
    ("el martes de la semana entrante", "el martes de la próxima semana"),
    ("el martes próximo a las once", "el próximo martes a las once"),
])
def test_spanish_phrases_duckling_misreads_are_rewritten(said, read):
    assert spanish_phrases(said) == read


@pytest.mark.parametrize(("said", "read"), [
    ("5 in the evening", "5 pm"),
    ("tomorrow at five o'clock in the evening", "tomorrow at 5 pm"),
    ("at 7 at night tomorrow", "at 7 pm tomorrow"),
    ("10:30 in the morning", "10:30 am"),
    ("3 in the afternoon", "3 pm"),
    ("12 at night", "12 at night"),  # midnight: left to Duckling
    ("tomorrow evening", "tomorrow evening"),
])
def test_english_hours_with_a_part_of_the_day_become_am_or_pm(said, read):
    assert english_parts_of_day(said) == read


@pytest.mark.parametrize(("said", "read"), [
    ("a week from monday at 10", "december 14 at 10"),  # from that Monday, not today
    ("a week from this friday", "december 11"),
    ("two weeks from friday", "december 18"),
    ("a week from wednesday", "december 9"),  # said on a Wednesday: today's own name
    ("two days from now at 10", "december 4 at 10"),  # the hour said is kept
    ("a couple of days from today", "december 4"),
    ("a week from tomorrow", "december 10"),
    ("30 days from now", "january 1 2027"),  # another year is named
    ("a week on monday", "december 14"),
    ("monday week at 11", "december 14 at 11"),
    ("the week after next on tuesday", "december 15"),
    ("tuesday of the week after next", "december 15"),
    ("a week from next monday", "a week from next monday"),  # Duckling reads it right
    ("in a couple of days", "in a couple of days"),
    ("next week on tuesday", "next week on tuesday"),
])
def test_english_offsets_from_a_day_or_from_now_become_the_date_they_mean(said, read):
    assert english_offsets(said, Utterance("en", said, NOW).local("now")) == read


def test_the_misread_classes_fail_without_the_rewrites():
    """Why each rewrite exists: Duckling alone lands these on another slot."""
    misread = ["en 3 días a las diez", "dentro de una semana a las diez",
               "mañana eh a las 3 de la tarde", "el martes de la semana que viene a las 11",
               "5 in the evening", "um, tomorrow, like, at 10",
               "el martes de la semana próxima a las diez", "de aquí a tres días a las diez",
               "dentro de un par de días a las diez", "el martes de la otra semana a las diez",
               "el martes próximo a las once", "a week from monday at 10",
               "a week from friday at 3 pm", "two days from now at 10", "monday week at 11"]
    rows = {row.text: row for row in TIMES}
    for text in misread:
        assert duckling_alone_slot(rows[text]) != rows[text].local("slot"), text
        assert duckling_slot(rows[text]) == rows[text].local("slot"), text


# -- a time already past ---------------------------------------------------------------------
def _at(hhmm: str) -> datetime:
    return Utterance("en", "", f"2026-12-02 {hhmm}").local("slot")


@pytest.mark.parametrize(("locale", "text"), [
    ("en", "today at 9"), ("en", "today at 9 am"), ("es", "hoy a las 9"),
    ("es", "hoy a las nueve de la mañana"),
])
def test_a_time_already_past_today_is_asked_not_booked(locale, text):
    now = _at("10:00")
    resolution = resolve(CLIENT, understand(text, locale, now, TZ), now, set())
    assert resolution.slot is None and resolution.asked == _at("09:00")


def test_a_part_of_today_already_over_is_past_not_misunderstood():
    now = _at("13:00")
    resolution = resolve(CLIENT, understand("this morning", "en", now, TZ), now, set())
    assert resolution.slot is None and resolution.asked == _at("09:00")  # its first slot


def test_an_hour_without_a_day_that_has_passed_today_means_tomorrow():
    now = _at("10:00")
    resolution = resolve(CLIENT, understand("at 9", "en", now, TZ), now, set())
    assert resolution.slot == _at("09:00") + timedelta(days=1)


# -- picking an offered time -----------------------------------------------------------------
@pytest.mark.parametrize(("said", "choice"), [
    ("the second one", 2), ("the third one", 3), ("the first", 1), ("number two", 2),
    ("two", 2), ("one", 1), ("the last one", LAST), ("la segunda", 2), ("la tercera", 3),
    ("el número uno", 1), ("la 2a", 2), ("the fourth", 4),
])
def test_an_ordinal_or_a_number_names_an_offered_time(said, choice):
    assert offered_choice(said) == choice


@pytest.mark.parametrize("said", [
    "the second of december", "the 2nd at 10", "a la una", "la una", "las dos",
    "tomorrow at one", "the second or the third", "el dos de diciembre", "",
    "I want something else entirely please",
])
def test_a_day_a_time_or_no_single_choice_is_not_a_pick(said):
    assert offered_choice(said) is None


def test_pass_rates_duckling_with_rewrites_against_duckling_alone_and_dateparser(capsys):
    rates = {}
    parsers = (("duckling+rewrites", duckling_slot), ("duckling alone", duckling_alone_slot),
               ("dateparser", dateparser_slot))
    for name, parse in parsers:
        for locale in ("en", "es"):
            rows = [row for row in TIMES if row.locale == locale]
            passed = sum(parse(row) == row.local("slot") for row in rows)
            rates[(name, locale)] = (passed, len(rows))
    with capsys.disabled():
        print(f"\ndate/time understanding pass rate ({len(TIMES)} utterances; the "
              f"{len(PICKS)} picks are read before any date parser):")
        for (name, locale), (passed, total) in rates.items():
            print(f"  {name:<18} {locale}: {passed}/{total} ({passed / total:6.1%})")
    for locale in ("en", "es"):
        passed, total = rates[("duckling+rewrites", locale)]
        assert passed == total
        assert passed >= rates[("duckling alone", locale)][0]
        assert passed >= rates[("dateparser", locale)][0]


# -- a day the caller names that is closed ---------------------------------------------------
@pytest.mark.parametrize(("locale", "text"), [
    ("en", "december 6 at 10"), ("en", "on december 6 at 10 am"), ("en", "sunday at 10"),
    ("es", "en cuatro días a las diez"), ("es", "dentro de 4 días a las 10"),
    ("es", "el 6 de diciembre a las diez"), ("es", "el domingo a las diez"),
])
def test_a_named_day_that_is_closed_is_that_day_not_one_a_week_or_a_year_later(locale, text):
    """Sunday December 6 is closed: Duckling's next reading of the date is December 6, 2027
    (a Monday, open), of the weekday the Sunday after. The caller meant this one."""
    now = Utterance(locale, text, NOW).local("now")
    resolution = resolve(CLIENT, understand(text, locale, now, TZ), now, set())
    assert resolution.slot is None
    assert resolution.asked == Utterance(locale, text, "2026-12-06 10:00").local("slot")


def test_a_named_date_on_a_closed_date_is_kept_too():
    """A closed date (a holiday) on an open weekday: not the same date a year later."""
    client = SimpleNamespace(timezone=TZ, slot_minutes=SLOT_MINUTES, business_hours=HOURS,
                             closed_dates=[{"from": "2026-12-07", "to": "2026-12-07"}])
    now = Utterance("en", "", NOW).local("now")
    for locale, text in (("en", "december 7 at 10"), ("es", "en cinco días a las diez")):
        resolution = resolve(client, understand(text, locale, now, TZ), now, set())
        assert resolution.slot is None and resolution.asked == _at("10:00") + timedelta(days=5)
