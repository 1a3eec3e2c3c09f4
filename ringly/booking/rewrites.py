"""What a caller says, rewritten into words Duckling reads right, before it reads them.

Duckling stays the engine; these rewrites cover what it misreads in callers' speech (each one
measured against the utterance table in tests/booking/utterances.py):

- hesitations and hedges ("um", "like", "eh", "tal vez", "este,") split a day from its time,
  and Duckling then drops the day ("mañana eh a las 3 de la tarde" became today at 3 PM);
- Spanish offsets ("en 3 días", "dentro de una semana", "de hoy en ocho") are read as today
  (or, for the idiom, a day late): they become the date they mean ("el 5 de diciembre");
- "5 in the evening" / "7 at night" are read as a 6 PM "evening" window: they become "5 pm";
- "el martes que viene" is read as Tuesday of the week after; "a eso de las tres" and "como a
  las diez" lose their day.
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

_NUMBER_ES = "|".join(sorted(_NUMBERS_ES, key=len, reverse=True))
_OFFSET_ES = re.compile(
    rf"\b(?:en|dentro\s+de)\s+(\d{{1,2}}|{_NUMBER_ES})\s+(d[ií]as?|semanas?)\b", re.IGNORECASE)
# "de hoy en ocho" is a week from today and "de mañana en quince" two weeks from tomorrow: the
# idiom counts both ends.
_IDIOM_ES = re.compile(r"\bde\s+(hoy|ma[nñ]ana)\s+en\s+(ocho|quince|8|15)(?:\s+d[ií]as)?\b",
                       re.IGNORECASE)
_NEXT_WEEK_ES = re.compile(r"\b(?:la\s+)?semana\s+que\s+viene\b", re.IGNORECASE)
_DAY_THAT_COMES_ES = re.compile(
    r"\bel\s+(lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bado|domingo)\s+que\s+viene\b",
    re.IGNORECASE)
# Duckling reads "al mediodía" after a day as "until noon"; "a las 12" means noon here.
_NOON_ES = re.compile(r"\b(?:al|a|del|el)\s+mediod[ií]a\b", re.IGNORECASE)
_ABOUT_ES = re.compile(
    r"\b(?:como|m[aá]s\s+o\s+menos|a\s+eso\s+de|sobre)\s+(?:a\s+)?(las?)\b", re.IGNORECASE)
_IN_THE_PART_ES = re.compile(
    r"\b(\d{1,2}(?::\d{2})?|una|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce)"
    r"((?:\s+y\s+(?:media|cuarto))?)\s+en\s+la\s+(mañana|manana|tarde|noche)\b", re.IGNORECASE)

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


def spanish_offsets(text: str, now: datetime) -> str:
    """ "en 3 días", "dentro de una semana", "de hoy en ocho" -> the date they mean ("el 5 de
    diciembre")."""

    def spoken(days: int) -> str:
        day = (now + timedelta(days=days)).date()
        year = f" de {day.year}" if day.year != now.year else ""
        return f"el {day.day} de {_MONTHS_ES[day.month - 1]}{year}"

    def offset(match: re.Match[str]) -> str:
        raw, unit = match.group(1).lower(), match.group(2).lower()
        count = int(raw) if raw.isdigit() else _NUMBERS_ES[raw]
        return spoken(count * (7 if unit.startswith("semana") else 1))

    def idiom(match: re.Match[str]) -> str:
        start = 0 if match.group(1).lower() == "hoy" else 1
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
    return english_parts_of_day(text)
