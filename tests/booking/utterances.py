"""The utterance table: what callers say for a day and time, or to pick an offered time, in
English and Spanish, each with the slot it means.

One row is data only: the words, their language, the moment they are said (local time in the
client's zone) and the local slot meant. A pick row is said after `first`, whose slot is taken,
so the caller is offered the three nearest free times (9:00, 9:30 and 10:30 tomorrow) and picks
one; `keys` means the caller presses the row's text instead of saying it.

tests/booking/test_understanding.py reads every row with the parser (and the pick rows with the
choice reader); tests/voice/test_utterances_by_call.py books every row through a whole call.
The first 30 rows of each language are the original table (docs/voice.md); the rest cover what
callers were heard to say and was misread, and its neighbours.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ringly.booking.slots import zone

TZ = "America/Chicago"
# Monday-Friday 9 AM-8 PM (so "5 in the evening" is bookable), Saturday 10-2, Sunday closed.
HOURS = {**{day: [["09:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
         "sat": [["10:00", "14:00"]], "sun": []}
SLOT_MINUTES = 30
NOW = "2026-12-02 08:00"  # a Wednesday, before opening: "today" is still bookable
# Pick rows: the first time asked for is taken, and these are offered, in this order.
FIRST = {"en": "tomorrow at 10 am", "es": "mañana a las diez"}
TAKEN = "2026-12-03 10:00"
OFFERED = ("2026-12-03 09:00", "2026-12-03 09:30", "2026-12-03 10:30")


@dataclass(frozen=True)
class Utterance:
    locale: str
    text: str
    slot: str  # the local slot meant, "YYYY-MM-DD HH:MM"
    now: str = NOW  # when it is said, local
    first: str | None = None  # a pick row: said before, its slot taken, times offered
    keys: bool = False  # a pick row answered with keys (the text is the digits)

    @property
    def pick(self) -> int | None:
        """Which offered time (1-based) a pick row means."""
        return OFFERED.index(self.slot) + 1 if self.first else None

    def local(self, field: str) -> datetime:
        return datetime.strptime(getattr(self, field), "%Y-%m-%d %H:%M").replace(
            tzinfo=zone(TZ))


def en(text: str, slot: str, now: str = NOW) -> Utterance:
    return Utterance("en", text, slot, now)


def es(text: str, slot: str, now: str = NOW) -> Utterance:
    return Utterance("es", text, slot, now)


def pick(locale: str, text: str, slot: str, keys: bool = False) -> Utterance:
    return Utterance(locale, text, slot, first=FIRST[locale], keys=keys)


D = "2026-12-"  # every slot but one is in December 2026

ENGLISH = [
    # The original table.
    en("tomorrow at 10 am", D + "03 10:00"),
    en("tomorrow at 10", D + "03 10:00"),
    en("next Tuesday at 2:30", D + "08 14:30"),
    en("friday at 3 pm", D + "04 15:00"),
    en("friday at 3", D + "04 15:00"),
    en("the day after tomorrow in the morning", D + "04 09:00"),
    en("today at 4:30 pm", D + "02 16:30"),
    en("today at noon", D + "02 12:00"),
    en("noon on friday", D + "04 12:00"),
    en("monday at 9 am", D + "07 09:00"),
    en("thursday at 1:30 pm", D + "03 13:30"),
    en("thursday at 1:30", D + "03 13:30"),
    en("tomorrow afternoon", D + "03 12:00"),
    en("tomorrow morning", D + "03 09:00"),
    en("saturday at 11 am", D + "05 11:00"),
    en("saturday at 11", D + "05 11:00"),
    en("december 10 at 2 pm", D + "10 14:00"),
    en("on the 9th at 10:30 am", D + "09 10:30"),
    en("tomorrow at half past two", D + "03 14:30"),
    en("2 pm tomorrow", D + "03 14:00"),
    en("at 3 pm today", D + "02 15:00"),
    en("in two days at 11 am", D + "04 11:00"),
    en("tomorrow at 4 in the afternoon", D + "03 16:00"),
    en("friday morning", D + "04 09:00"),
    en("monday afternoon", D + "07 12:00"),
    en("tomorrow at 9:30 am", D + "03 09:30"),
    en("dec 11 at 3:30 pm", D + "11 15:30"),
    en("this friday at noon", D + "04 12:00"),
    en("tuesday at 10 in the morning", D + "08 10:00"),
    en("the day after tomorrow at 1 pm", D + "04 13:00"),
    # Hesitations and hedges before and inside the time.
    en("um, tomorrow, like, at 10", D + "03 10:00"),
    en("uh, tomorrow at 10 am", D + "03 10:00"),
    en("hmm, let me see, friday at 3 pm", D + "04 15:00"),
    en("I guess maybe tomorrow at 11", D + "03 11:00"),
    en("tomorrow at, um, 2 pm", D + "03 14:00"),
    en("well, uh, monday at 9 am I think", D + "07 09:00"),
    en("so, like, thursday at 4", D + "03 16:00"),
    en("er, the day after tomorrow, at 1 pm", D + "04 13:00"),
    # Parts of the day.
    en("5 in the evening", D + "02 17:00"),
    en("tomorrow at 5 in the evening", D + "03 17:00"),
    en("friday at 6 in the evening", D + "04 18:00"),
    en("10 in the morning", D + "02 10:00"),
    en("tomorrow at 3 in the afternoon", D + "03 15:00"),
    en("tomorrow evening at 6", D + "03 18:00"),
    en("at 7 at night tomorrow", D + "03 19:00"),
    en("tomorrow evening", D + "03 18:00"),
    en("five in the evening on monday", D + "07 17:00"),
    en("tomorrow at five o'clock in the evening", D + "03 17:00"),
    # Today and this afternoon, said at different times of the day.
    en("today at 2", D + "02 14:00"),
    en("this afternoon at 3", D + "02 15:00", now=D + "02 11:00"),
    en("this afternoon", D + "02 12:00"),
    en("later today at 4:30", D + "02 16:30"),
    en("this evening at 6:30", D + "02 18:30"),
    en("tonight at 7", D + "02 19:00"),
    en("this afternoon at 4:30", D + "02 16:30", now=D + "02 13:00"),
    # Next week, with a day.
    en("next Tuesday at 2", D + "08 14:00"),
    en("tuesday next week at 2 pm", D + "08 14:00"),
    en("next week on wednesday at 10 am", D + "09 10:00"),
    en("next week thursday at 11", D + "10 11:00"),
    en("next monday morning", D + "07 09:00"),
    # Offsets in days and weeks.
    en("in three days at 10 am", D + "05 10:00"),
    en("in 5 days at 11", D + "07 11:00"),
    en("in a week at 10", D + "09 10:00"),
    en("in two weeks at 3 pm", D + "16 15:00"),
    en("a week from today at 9:30", D + "09 09:30"),
    en("a week from tomorrow at 10", D + "10 10:00"),
    # Offsets from now and from a named day, and next week's days said other ways.
    en("a week from monday at 10", D + "14 10:00"),
    en("a week from friday at 3 pm", D + "11 15:00"),
    en("a week from this friday in the morning", D + "11 09:00"),
    en("two weeks from friday at 10", D + "18 10:00"),
    en("two days from now at 10", D + "04 10:00"),
    en("three days from now at 11 am", D + "05 11:00"),
    en("a couple of days from now at 11", D + "04 11:00"),
    en("a week from now at 2 pm", D + "09 14:00"),
    en("in a couple of days at 10", D + "04 10:00"),
    en("day after tomorrow at 10 am", D + "04 10:00"),
    en("a week on monday at 9 am", D + "14 09:00"),
    en("monday week at 11", D + "14 11:00"),
    en("the week after next on tuesday at 10", D + "15 10:00"),
    en("next week on tuesday at 10", D + "08 10:00"),
    en("tuesday of next week at 3 pm", D + "08 15:00"),
    # Picking one of the offered times (9:00, 9:30, 10:30 tomorrow).
    pick("en", "the second one", D + "03 09:30"),
    pick("en", "the third", D + "03 10:30"),
    pick("en", "number two", D + "03 09:30"),
    pick("en", "the first one please", D + "03 09:00"),
    pick("en", "um, the third one", D + "03 10:30"),
    pick("en", "I'll take the last one", D + "03 10:30"),
    pick("en", "option three", D + "03 10:30"),
    pick("en", "the second", D + "03 09:30"),
    pick("en", "the 2nd one", D + "03 09:30"),
    pick("en", "2", D + "03 09:30", keys=True),
    pick("en", "3", D + "03 10:30", keys=True),
]

SPANISH = [
    # The original table.
    es("mañana a las tres de la tarde", D + "03 15:00"),
    es("mañana a las diez", D + "03 10:00"),
    es("el viernes a las diez", D + "04 10:00"),
    es("el viernes a las tres", D + "04 15:00"),
    es("pasado mañana por la mañana", D + "04 09:00"),
    es("hoy al mediodía", D + "02 12:00"),
    es("el viernes al mediodía", D + "04 12:00"),
    es("el lunes a las nueve de la mañana", D + "07 09:00"),
    es("el jueves a la una y media", D + "03 13:30"),
    es("mañana por la tarde", D + "03 12:00"),
    es("mañana por la mañana", D + "03 09:00"),
    es("el sábado a las once", D + "05 11:00"),
    es("el 10 de diciembre a las dos de la tarde", D + "10 14:00"),
    es("el martes a las dos y media", D + "08 14:30"),
    es("hoy a las cuatro y media de la tarde", D + "02 16:30"),
    es("mañana a las 11", D + "03 11:00"),
    es("el lunes a las 3 pm", D + "07 15:00"),
    es("mañana a las nueve y media", D + "03 09:30"),
    es("el viernes por la mañana", D + "04 09:00"),
    es("el lunes por la tarde", D + "07 12:00"),
    es("pasado mañana a la una de la tarde", D + "04 13:00"),
    es("el 11 de diciembre a las tres y media", D + "11 15:30"),
    es("mañana a las 2 de la tarde", D + "03 14:00"),
    es("el jueves a las 4", D + "03 16:00"),
    es("hoy a las tres", D + "02 15:00"),
    es("el sábado a mediodía", D + "05 12:00"),
    es("mañana a las diez y media de la mañana", D + "03 10:30"),
    es("el martes a las once de la mañana", D + "08 11:00"),
    es("el viernes a las cuatro de la tarde", D + "04 16:00"),
    es("mediodía del jueves", D + "03 12:00"),
    # Offsets in days and weeks (Duckling alone reads these as today).
    es("en 3 días a las diez", D + "05 10:00"),
    es("en tres días a las once", D + "05 11:00"),
    es("dentro de 3 días a las 10", D + "05 10:00"),
    es("dentro de cinco días a las 9", D + "07 09:00"),
    es("dentro de una semana a las diez", D + "09 10:00"),
    es("en una semana a las 11", D + "09 11:00"),
    es("en dos semanas a las diez", D + "16 10:00"),
    es("dentro de dos semanas a las tres de la tarde", D + "16 15:00"),
    es("en dos días por la mañana", D + "04 09:00"),
    es("dentro de tres días a las 11", "2027-01-02 11:00", now=D + "30 10:00"),
    es("de hoy en ocho a las diez", D + "09 10:00"),
    # Hesitations and hedges before and inside the time.
    es("eh, tal vez mañana a las diez", D + "03 10:00"),
    es("mañana eh a las 3 de la tarde", D + "03 15:00"),
    es("este, mañana a las once", D + "03 11:00"),
    es("pues, creo que el viernes a las diez", D + "04 10:00"),
    es("mmm, a ver, el lunes a las nueve de la mañana", D + "07 09:00"),
    es("bueno, quizás pasado mañana a las 2 de la tarde", D + "04 14:00"),
    es("o sea, el jueves a las 4", D + "03 16:00"),
    es("mañana como a las diez", D + "03 10:00"),
    es("este viernes a las tres", D + "04 15:00"),
    # Parts of the day.
    es("7 de la noche", D + "02 19:00"),
    es("mañana a las 7 de la noche", D + "03 19:00"),
    es("mañana a las 10 por la mañana", D + "03 10:00"),
    es("el viernes a las 6 de la tarde", D + "04 18:00"),
    es("mañana a las cinco de la tarde", D + "03 17:00"),
    es("mañana por la noche", D + "03 18:00"),
    es("por la mañana", D + "02 09:00", now=D + "02 07:30"),
    es("mañana a las 4 en la tarde", D + "03 16:00"),
    # Hoy and esta tarde, said at different times of the day.
    es("hoy a las 2", D + "02 14:00"),
    es("esta tarde a las 3", D + "02 15:00", now=D + "02 11:00"),
    es("esta tarde", D + "02 12:00"),
    es("hoy por la tarde a las cuatro", D + "02 16:00"),
    es("esta noche a las siete", D + "02 19:00"),
    es("hoy a las cinco y media de la tarde", D + "02 17:30", now=D + "02 13:00"),
    # La próxima semana, with a day.
    es("el martes de la próxima semana a las 11", D + "08 11:00"),
    es("el martes de la semana que viene a las 11", D + "08 11:00"),
    es("la próxima semana el miércoles a las diez", D + "09 10:00"),
    es("el próximo lunes a las 10", D + "07 10:00"),
    es("el jueves de la semana que viene por la tarde", D + "10 12:00"),
    # Offsets and next week said other ways ("de aquí a", "un par de", "la semana próxima",
    # "la otra semana", "la semana entrante", "el martes próximo", "el lunes en ocho").
    es("el martes de la semana próxima a las diez", D + "08 10:00"),
    es("la semana próxima el jueves a las 3 de la tarde", D + "10 15:00"),
    es("el martes de la otra semana a las diez", D + "08 10:00"),
    es("el martes de la semana entrante a las diez", D + "08 10:00"),
    es("el martes próximo a las once", D + "08 11:00"),
    es("de aquí a tres días a las diez", D + "05 10:00"),
    es("de aquí a una semana a las 11", D + "09 11:00"),
    es("de aquí a dos semanas a las tres de la tarde", D + "16 15:00"),
    es("dentro de un par de días a las diez", D + "04 10:00"),
    es("dentro de un par de días por la mañana", D + "04 09:00"),
    es("en un par de días a las once", D + "04 11:00"),
    es("en un par de semanas a las diez", D + "16 10:00"),
    es("pasado mañana a las diez", D + "04 10:00"),
    es("el lunes en ocho a las diez", D + "14 10:00"),
    # Picking one of the offered times (9:00, 9:30, 10:30 tomorrow).
    pick("es", "la segunda", D + "03 09:30"),
    pick("es", "la tercera", D + "03 10:30"),
    pick("es", "la primera, por favor", D + "03 09:00"),
    pick("es", "el número dos", D + "03 09:30"),
    pick("es", "la opción tres", D + "03 10:30"),
    pick("es", "eh, la segunda", D + "03 09:30"),
    pick("es", "me quedo con la última", D + "03 10:30"),
    pick("es", "la tercera opción", D + "03 10:30"),
    pick("es", "quiero la segunda", D + "03 09:30"),
    pick("es", "2", D + "03 09:30", keys=True),
    pick("es", "1", D + "03 09:00", keys=True),
]

TABLE = ENGLISH + SPANISH
TIMES = [row for row in TABLE if row.first is None]
PICKS = [row for row in TABLE if row.first is not None]


def row_id(row: Utterance) -> str:
    return f"{row.locale}:{'keys ' if row.keys else ''}{row.text}"
