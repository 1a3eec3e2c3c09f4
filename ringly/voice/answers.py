"""What a caller's short answers mean: yes or no, which offered time, a phone number.

Pure functions of the words (or keys) and the locale; the words themselves are in
ringly/wording.py beside what Rachel and Lina say.
"""
from __future__ import annotations

import re

import phonenumbers

from ringly.text import normalise
from ringly.wording import NUMBERS, ORDINALS, WORDS

# Words around a choice that do not change it: "I'll take the second one, please".
_AROUND_A_CHOICE = frozenset({
    "the", "one", "please", "i", "ll", "take", "want", "d", "like", "id", "lets", "let", "s",
    "go", "with", "number", "option", "choice", "time", "um", "uh", "er", "hmm", "ok", "okay",
    "la", "el", "lo", "numero", "opcion", "hora", "quiero", "me", "quedo", "con", "por",
    "favor", "eh", "em", "pues", "bueno", "deme", "prefiero", "mejor", "esa", "ese",
})
# Words that make it a day or time rather than a choice: "the second of December", "at one",
# "a la una", "las dos".
_TIME_WORDS = frozenset({
    "at", "am", "pm", "oclock", "clock", "of", "morning", "afternoon", "evening", "tonight",
    "noon", "today", "tomorrow", "next", "week", "a", "las", "de", "del", "manana", "tarde",
    "noche", "mediodia", "hoy", "semana", "proxima", "proximo",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo",
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "enero", "febrero", "marzo", "abril", "mayo", "junio",
    "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
})
LAST = -1


def offered_choice(speech: str) -> int | None:
    """Which offered time the words name: "the second one" -> 2, "la última" -> LAST,
    "number two" -> 2; None when they name a day or time, or no single choice.

    Read before any date parsing on the pick step, so "the second one" is never the 2nd of
    the month; ordinals win over numbers ("the second one" names 2, not 1)."""
    words = normalise(speech).split()
    if not words or len(words) > 8 or any(word in _TIME_WORDS for word in words):
        return None
    ordinals = {ORDINALS[word] for word in words if word in ORDINALS}
    if len(ordinals) == 1:
        return ordinals.pop()
    if ordinals:
        return None
    rest = [word for word in words if word not in _AROUND_A_CHOICE or word == "one"]
    if len(rest) == 1 and rest[0] in NUMBERS:
        return NUMBERS[rest[0]]
    return None


_KEY_WORDS = frozenset({"number", "option", "press", "numero", "opcion", "oprimo", "oprima",
                        "marco", "el", "la", "please", "por", "favor"})


def key(digits: str, speech: str) -> str:
    """The key pressed, or the one named in words ("one", "number two", "opción tres", "dos"):
    a caller told to press 1 may say it."""
    if digits:
        return digits
    words = [word for word in normalise(speech).split() if word not in _KEY_WORDS]
    return str(NUMBERS[words[0]]) if len(words) == 1 and words[0] in NUMBERS else ""


def yes_or_no(digits: str, speech: str, locale: str) -> bool | None:
    """1 or a yes ("yeah", "that's right", "sí", "claro") -> True; 2 or a no ("nope", "no
    gracias", "that's not right") -> False; anything else -> None.

    A no anywhere wins ("yes... no, wait"): the caller is asked again rather than booked for
    a time they took back. Phrases that only sound like a no ("no problem", "why not") are
    yeses and are read as such first."""
    pressed = key(digits, speech)  # "one" said is 1 pressed
    if pressed:
        return {"1": True, "2": False}.get(pressed)
    text = f" {normalise(speech)} "
    yes = False
    for phrase in WORDS["yes"].get(locale, ()):
        if f" {phrase} " in text:
            yes = True
            text = text.replace(f" {phrase} ", " ")
    if any(f" {word} " in text for word in WORDS["no"].get(locale, ())):
        return False
    return True if yes else None


# Speech recognition usually writes digits, but not always: "three one two", "cinco cinco".
SPOKEN_DIGITS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "cero": "0", "uno": "1", "una": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5",
    "seis": "6", "siete": "7", "ocho": "8", "nueve": "9",
}
SPOKEN_MULTIPLIERS = {"double": 2, "triple": 3, "doble": 2}


def spoken_digits(raw: str) -> str:
    """Turn digit words (English or Spanish, "double five") into digits; keep typed digits."""
    out: list[str] = []
    repeat = 1
    for word in re.findall(r"\+|\d+|[a-záéíóúñ]+", raw.lower()):
        if word in SPOKEN_MULTIPLIERS:
            repeat = SPOKEN_MULTIPLIERS[word]
            continue
        digit = SPOKEN_DIGITS.get(word, word if word == "+" or word.isdigit() else "")
        out.append(digit * repeat if len(digit) == 1 else digit)
        repeat = 1
    return "".join(out)


def e164(raw: str, country: str) -> str | None:
    """A typed or spoken number in E.164, or None when it is not a valid number."""
    digits = spoken_digits(raw)
    if len(digits.lstrip("+")) < 7:
        return None
    try:
        parsed = phonenumbers.parse(digits, country)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
