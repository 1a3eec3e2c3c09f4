"""What a caller says, rewritten into words Duckling reads right, before it reads them.

Duckling stays the engine; these rewrites cover what it misreads in callers' speech (each one
measured against the utterance table in tests/booking/utterances.py):

- hesitations and hedges ("um", "like", "eh", "tal vez", "este,") split a day from its time,
  and Duckling then drops the day ("mañana eh a las 3 de la tarde" became today at 3 PM);
- Spanish offsets ("en 3 días", "dentro de una semana", "de hoy en ocho") are read as today
  (or, for the idiom, a day late): they become the date they mean ("el 5 de diciembre");
- "5 in the evening" / "7 at night" are read as a 6 PM "evening" window: they become "5 pm";
- "el martes que viene" is read as Tuesday of the week after; "a eso de las tres" and "como a
  las diez" lose their day;
- "de aquí a 3 días" and "dentro de un par de días" are read as today, "el martes de la semana
  próxima" as last Tuesday, "el martes de la otra semana" (next week's, as said in Mexico) and
  "el martes próximo" as today: the offsets become dates, the weeks "la próxima semana";
- "a week from monday" is read as Monday, "two days from now at 10" as now plus two days (the
  hour said is lost), "a week on monday" and "the week after next on tuesday" as the next
  Monday: they become the date they mean ("december 14").
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

_MONTHS_ES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
              "septiembre", "octubre", "noviembre", "diciembre")
_NUMBERS_ES = {
    "un": 1, "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "trece": 13,
    "catorce": 14, "quince": 15, "veinte": 20, "treinta": 30,
}
_HOURS_EN = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}

# Sounds and hedges that carry no date or time. "este" is a filler only when it does not point
# at something ("este viernes" is this Friday); "like" and "so" are dropped whole (a caller's
# "I'd like" loses nothing Duckling needs).
_FILLERS = {
    "en": (r"u+m+|u+h+|e+r+m*|a+h+|h*m+m+|h+m+|like|you know|i mean|i guess|i think|i suppose"
           r"|let me see|let me think|let's see|well|so|okay|ok|maybe|perhaps|probably"
           r"|actually|basically"),
    "es": (r"e+h+|e+m+|m+m+|este(?!\s+(?:lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bado"
           r"|domingo|mes|a[nñ]o|fin|finde|d[ií]a))|pues|bueno|o sea|a ver|tal vez|quiz[aá]s?"
           r"|creo que|digamos"),
}
_FILLER_RE = {
    locale: re.compile(rf"(?<![\w'])(?:{words})(?![\w'])[,.;:]*", re.IGNORECASE)
    for locale, words in _FILLERS.items()
}
_PAUSES = re.compile(r"\s*(?:[,;]|\.\.\.|…)+\s*")

_WEEKDAY_ES = r"lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bado|domingo"
_NUMBER_ES = "|".join(sorted(_NUMBERS_ES, key=len, reverse=True))
_OFFSET_ES = re.compile(
    rf"\b(?:en|dentro\s+de|de\s+aqu[ií]\s+a)\s+(\d{{1,2}}|un\s+par\s+de|{_NUMBER_ES})\s+"
    r"(d[ií]as?|semanas?)\b", re.IGNORECASE)
# "de hoy en ocho" is a week from today, "de mañana en quince" two weeks from tomorrow and "el
# lunes en ocho" a week from Monday: the idiom counts both ends.
_IDIOM_ES = re.compile(
    rf"\b(?:de\s+|del\s+|el\s+)(hoy|ma[nñ]ana|{_WEEKDAY_ES})\s+en\s+(ocho|quince|8|15)"
    r"(?:\s+d[ií]as)?\b", re.IGNORECASE)
_NEXT_WEEK_ES = re.compile(
    r"\b(?:la\s+)?(?:semana\s+que\s+viene|semana\s+pr[oó]xima|semana\s+entrante"
    r"|otra\s+semana)\b", re.IGNORECASE)
_DAY_THAT_COMES_ES = re.compile(
    rf"\bel\s+({_WEEKDAY_ES})\s+(?:que\s+viene|pr[oó]ximo|entrante)\b", re.IGNORECASE)
# Duckling reads "al mediodía" after a day as "until noon"; "a las 12" means noon here.
_NOON_ES = re.compile(r"\b(?:al|a|del|el)\s+mediod[ií]a\b", re.IGNORECASE)
_ABOUT_ES = re.compile(
    r"\b(?:como|m[aá]s\s+o\s+menos|a\s+eso\s+de|sobre)\s+(?:a\s+)?(las?)\b", re.IGNORECASE)
_IN_THE_PART_ES = re.compile(
    r"\b(\d{1,2}(?::\d{2})?|una|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce)"
    r"((?:\s+y\s+(?:media|cuarto))?)\s+en\s+la\s+(mañana|manana|tarde|noche)\b", re.IGNORECASE)

_WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6, "lunes": 0, "martes": 1, "miercoles": 2, "miércoles": 2, "jueves": 3,
    "viernes": 4, "sabado": 5, "sábado": 5, "domingo": 6,
}
_MONTHS_EN = ("january", "february", "march", "april", "may", "june", "july", "august",
              "september", "october", "november", "december")
_COUNTS_EN = {"a": 1, "an": 1, "one": 1, "a couple of": 2, "a couple": 2, "couple of": 2,
              **{word: hour for word, hour in _HOURS_EN.items() if hour > 1}}
_COUNT_EN = "|".join(sorted(map(re.escape, _COUNTS_EN), key=len, reverse=True))
_WEEKDAY_EN = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
# "a week from monday", "two weeks from this friday": from that weekday, not from today.
_FROM_WEEKDAY_EN = re.compile(
    rf"\b(\d{{1,2}}|{_COUNT_EN})\s+weeks?\s+(?:from|after)\s+(?:this\s+)?({_WEEKDAY_EN})\b",
    re.IGNORECASE)
# "two days from now", "a couple of days from today", "a week from tomorrow".
_FROM_NOW_EN = re.compile(
    rf"\b(\d{{1,2}}|{_COUNT_EN})\s+(days?|weeks?)\s+from\s+(now|today|tomorrow)\b",
    re.IGNORECASE)
# British "a week on monday" / "monday week": the Monday after next Monday.
_WEEK_ON_EN = re.compile(
    rf"\ba\s+week\s+on\s+({_WEEKDAY_EN})\b|\b({_WEEKDAY_EN})\s+week\b", re.IGNORECASE)
# "the week after next on tuesday", "tuesday of the week after next".
_AFTER_NEXT_EN = re.compile(
    rf"\b(?:the\s+)?week\s+after\s+next(?:\s+on)?\s+({_WEEKDAY_EN})\b"
    rf"|\b(?:on\s+)?({_WEEKDAY_EN})\s+(?:of\s+)?the\s+week\s+after\s+next\b", re.IGNORECASE)
_HOUR_EN = "|".join(_HOURS_EN)
_PART_EN = re.compile(
    rf"\b(\d{{1,2}}(?::\d{{2}})?|{_HOUR_EN})(?:\s*o'?\s*clock)?\s+"
    r"(in\s+the\s+morning|in\s+the\s+afternoon|in\s+the\s+evening|at\s+night|tonight)\b",
    re.IGNORECASE)


def drop_fillers(text: str, locale: str) -> str:
    """Hesitations and hedges out, pauses (commas) closed up: "um, tomorrow, like, at 10" ->
    "tomorrow at 10"."""
    text = _FILLER_RE[locale if locale in _FILLER_RE else "en"].sub(" ", text)
    return " ".join(_PAUSES.sub(" ", text).split())


def _days_to(weekday: str, now: datetime) -> int:
    """Days from today to the weekday as Duckling reads it alone ("monday": the coming one;
    today's own name: today)."""
    return (_WEEKDAYS[weekday.lower()] - now.weekday()) % 7


def spanish_offsets(text: str, now: datetime) -> str:
    """ "en 3 días", "de aquí a tres días", "dentro de un par de días", "dentro de una semana",
    "de hoy en ocho", "el lunes en ocho" -> the date they mean ("el 5 de diciembre")."""

    def spoken(days: int) -> str:
        day = (now + timedelta(days=days)).date()
        year = f" de {day.year}" if day.year != now.year else ""
        return f"el {day.day} de {_MONTHS_ES[day.month - 1]}{year}"

    def offset(match: re.Match[str]) -> str:
        raw, unit = " ".join(match.group(1).lower().split()), match.group(2).lower()
        count = int(raw) if raw.isdigit() else 2 if raw == "un par de" else _NUMBERS_ES[raw]
        return spoken(count * (7 if unit.startswith("semana") else 1))

    def idiom(match: re.Match[str]) -> str:
        start_word = match.group(1).lower()
        start = (0 if start_word == "hoy" else 1 if start_word in ("mañana", "manana")
                 else _days_to(start_word, now))
        return spoken(start + (7 if match.group(2).lower() in ("ocho", "8") else 14))

    return _OFFSET_ES.sub(offset, _IDIOM_ES.sub(idiom, text))


def spanish_phrases(text: str) -> str:
    """Spanish turns of phrase Duckling misreads, in the form it reads right."""
    text = _DAY_THAT_COMES_ES.sub(lambda m: f"el próximo {m.group(1)}", text)
    text = _NEXT_WEEK_ES.sub("la próxima semana", text)
    text = _ABOUT_ES.sub(lambda m: f"a {m.group(1)}", text)
    text = _NOON_ES.sub("a las 12", text)
    return _IN_THE_PART_ES.sub(
        lambda m: f"{m.group(1)}{m.group(2)} de la {m.group(3)}", text)


def english_offsets(text: str, now: datetime) -> str:
    """ "a week from monday", "two days from now", "a week on monday", "the week after next on
    tuesday" -> the date they mean ("december 14")."""

    def spoken(days: int) -> str:
        day = (now + timedelta(days=days)).date()
        year = f" {day.year}" if day.year != now.year else ""
        return f"{_MONTHS_EN[day.month - 1]} {day.day}{year}"

    def count(raw: str) -> int:
        raw = " ".join(raw.lower().split())
        return int(raw) if raw.isdigit() else _COUNTS_EN[raw]

    def from_weekday(match: re.Match[str]) -> str:
        return spoken(_days_to(match.group(2), now) + 7 * count(match.group(1)))

    def from_now(match: re.Match[str]) -> str:
        start = 1 if match.group(3).lower() == "tomorrow" else 0
        unit = 7 if match.group(2).lower().startswith("week") else 1
        return spoken(start + unit * count(match.group(1)))

    def week_on(match: re.Match[str]) -> str:
        return spoken(_days_to(match.group(1) or match.group(2), now) + 7)

    def after_next(match: re.Match[str]) -> str:
        weekday = _WEEKDAYS[(match.group(1) or match.group(2)).lower()]
        return spoken(14 - now.weekday() + weekday)  # weeks start on Monday, as Duckling's do

    text = _FROM_WEEKDAY_EN.sub(from_weekday, text)
    text = _FROM_NOW_EN.sub(from_now, text)
    text = _AFTER_NEXT_EN.sub(after_next, text)
    return _WEEK_ON_EN.sub(week_on, text)


def english_parts_of_day(text: str) -> str:
    """ "5 in the evening", "7 at night" -> "5 pm"; "10 in the morning" -> "10 am"."""

    def to_clock(match: re.Match[str]) -> str:
        raw, part = match.group(1).lower(), match.group(2).lower()
        hour = raw if raw[0].isdigit() else str(_HOURS_EN[raw])
        if int(hour.split(":")[0]) == 12:
            return match.group(0)  # 12 at night is midnight, 12 in the morning too: leave it
        return f"{hour} {'am' if part.endswith('morning') else 'pm'}"

    return _PART_EN.sub(to_clock, text)


def rewrite(text: str, locale: str, now: datetime) -> str:
    """The caller's words as Duckling reads them right (see the module docstring)."""
    text = drop_fillers(text, locale)
    if locale == "es":
        return spanish_phrases(spanish_offsets(text, now))
    return english_offsets(english_parts_of_day(text), now)
