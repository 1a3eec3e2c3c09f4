"""Everything Rachel (English) and Lina (Spanish) say, side by side, keyed by locale."""
from __future__ import annotations

from datetime import date, datetime, timedelta

LOCALES = ("en", "es")

PROMPTS: dict[str, dict[str, str]] = {
    "unknown_number": {
        "en": "Thank you for calling. This number is not in service with Ringly right now. "
              "Please try again later. Goodbye.",
        "es": "Gracias por llamar. Este número no está en servicio con Ringly en este momento. "
              "Por favor, intente más tarde. Adiós.",
    },
    "fallback": {
        "en": "We're sorry, we are having trouble answering right now. "
              "Please leave a message after the tone and we will call you back.",
        "es": "Lo sentimos, tenemos problemas para atenderle ahora. "
              "Por favor, deje un mensaje después del tono y le devolveremos la llamada.",
    },
    "language_menu": {
        "en": "For English, press 1 or say English.",
        "es": "Para español, oprima 2 o diga español.",
    },
    "greeting": {
        "en": "Thank you for calling {business}. This is Rachel.",
        "es": "Gracias por llamar a {business}. Le atiende Lina.",
    },
    "intent_menu": {
        "en": "To book an appointment, press 1 or say appointment. To leave a message, press 2. "
              "To hear our hours, press 3. To talk to a person, press 4.",
        "es": "Para hacer una cita, oprima 1 o diga cita. Para dejar un mensaje, oprima 2. "
              "Para escuchar nuestro horario, oprima 3. Para hablar con una persona, oprima 4.",
    },
    "not_understood": {
        "en": "Sorry, I didn't understand that.",
        "es": "Perdone, no le entendí.",
    },
    "no_input": {
        "en": "Sorry, I didn't hear anything.",
        "es": "Perdone, no le escuché.",
    },
    "goodbye_no_answer": {
        "en": "I'm sorry we couldn't connect. Please call us again any time. Goodbye.",
        "es": "Siento que no pudimos entendernos. Llámenos cuando quiera. Adiós.",
    },
    "ask_name": {
        "en": "Let's book your appointment. Please say your first and last name.",
        "es": "Vamos a hacer su cita. Por favor, diga su nombre y apellido.",
    },
    "ask_phone": {
        "en": "Thanks, {name}. To use the number you're calling from, press 1 or say yes. "
              "Otherwise, enter or say your phone number.",
        "es": "Gracias, {name}. Para usar el número desde el que llama, oprima 1 o diga sí. "
              "Si no, marque o diga su número de teléfono.",
    },
    "ask_phone_no_caller_id": {
        "en": "Thanks, {name}. Please enter or say your phone number.",
        "es": "Gracias, {name}. Por favor, marque o diga su número de teléfono.",
    },
    "ask_phone_number": {
        "en": "Please enter or say your phone number.",
        "es": "Por favor, marque o diga su número de teléfono.",
    },
    "ask_time": {
        "en": "What day and time would you like? For example, next Tuesday at 2:30.",
        "es": "¿Qué día y a qué hora le gustaría? Por ejemplo, el martes a las tres de la tarde.",
    },
    "time_not_understood": {
        "en": "Sorry, I couldn't understand a day and time.",
        "es": "Perdone, no entendí el día y la hora.",
    },
    "confirm_time": {
        "en": "I have {when}. To confirm, press 1 or say yes. "
              "To choose another time, press 2 or say no.",
        "es": "Tengo {when}. Para confirmar, oprima 1 o diga sí. "
              "Para elegir otra hora, oprima 2 o diga no.",
    },
    "another_time": {
        "en": "All right, let's find another time.",
        "es": "De acuerdo, busquemos otra hora.",
    },
    "time_passed": {
        "en": "Sorry, {when} has already passed.",
        "es": "Lo siento, {when} ya pasó.",
    },
    "slot_unavailable": {
        "en": "Sorry, {when} is not available.",
        "es": "Lo siento, {when} no está disponible.",
    },
    "slot_just_taken": {
        "en": "Sorry, that time was just taken.",
        "es": "Lo siento, esa hora se acaba de ocupar.",
    },
    "offer_alternatives": {
        "en": "The nearest free times are: {options}. Press or say the number of the time you "
              "want, or say another day and time.",
        "es": "Las horas libres más cercanas son: {options}. Oprima o diga el número de la hora "
              "que quiera, o diga otro día y hora.",
    },
    "option": {"en": "{n}, {when}", "es": "{n}, {when}"},
    "no_alternatives": {
        "en": "I couldn't find a free time near then. Please say another day and time.",
        "es": "No encontré una hora libre cerca de ese momento. Por favor, diga otro día y hora.",
    },
    "booked": {
        "en": "You're booked for {when}. Your confirmation code is {code_spoken}. "
              "We'll send you a text message with the details. Goodbye.",
        "es": "Su cita quedó para {when}. Su código de confirmación es {code_spoken}. "
              "Le enviaremos un mensaje de texto con los detalles. Adiós.",
    },
    "booked_no_text": {
        "en": "You're booked for {when}. I can't text that number, but your booking is "
              "confirmed: your confirmation code is {code_spoken}. Please write it down. "
              "Goodbye.",
        "es": "Su cita quedó para {when}. No puedo enviar un mensaje de texto a ese número, "
              "pero su cita está confirmada: su código de confirmación es {code_spoken}. "
              "Por favor, anótelo. Adiós.",
    },
    "voicemail": {
        "en": "Please leave your message after the tone. Press pound when you're done.",
        "es": "Por favor, deje su mensaje después del tono. Oprima numeral al terminar.",
    },
    "voicemail_thanks": {
        "en": "Thank you, we got your message. Goodbye.",
        "es": "Gracias, recibimos su mensaje. Adiós.",
    },
    "voicemail_empty": {
        "en": "I didn't get a message. Please call us again any time. Goodbye.",
        "es": "No recibí ningún mensaje. Llámenos cuando quiera. Adiós.",
    },
    "hours": {"en": "Our hours are: {hours}.", "es": "Nuestro horario es: {hours}."},
    "closed_all_week": {
        "en": "we have no opening hours set", "es": "no tenemos horario de atención",
    },
    "connecting": {
        "en": "Please hold while I connect you.", "es": "Un momento, le comunico.",
    },
    "dial_refused": {
        "en": "I'm sorry, I can't connect you to a person right now.",
        "es": "Lo siento, no puedo comunicarle con una persona en este momento.",
    },
    "nobody_available": {
        "en": "Nobody is available to take your call right now.",
        "es": "No hay nadie disponible para atenderle en este momento.",
    },
    # A returning caller with an upcoming appointment (ringly/voice/returning.py).
    "upcoming_appointment": {
        "en": "You have an appointment on {when}. To keep it, press 1; to change it, press 2; "
              "to cancel, press 3.",
        "es": "Tiene una cita {when}. Para mantenerla, oprima 1; para cambiarla, oprima 2; "
              "para cancelarla, oprima 3.",
    },
    "appointment_kept": {
        "en": "Great, your appointment stays as it is.",
        "es": "Perfecto, su cita se mantiene.",
    },
    "appointment_gone": {
        "en": "I couldn't find that appointment any more.",
        "es": "Ya no encuentro esa cita.",
    },
    "change_intro": {
        "en": "Let's find a new time for your appointment.",
        "es": "Busquemos una nueva hora para su cita.",
    },
    "same_time_as_booked": {
        "en": "That's the time you already have, {when}.",
        "es": "Esa es la hora que ya tiene, {when}.",
    },
    "appointment_unchanged": {
        "en": "Your appointment stays as it is. Goodbye.",
        "es": "Su cita se mantiene. Adiós.",
    },
    "appointment_changed": {
        "en": "Your appointment is moved to {when}. Your new confirmation code is {code_spoken}. "
              "We'll send you a text message with the details. Goodbye.",
        "es": "Su cita se cambió para {when}. Su nuevo código de confirmación es {code_spoken}. "
              "Le enviaremos un mensaje de texto con los detalles. Adiós.",
    },
    "appointment_changed_no_text": {
        "en": "Your appointment is moved to {when}. I can't text that number, but the change is "
              "confirmed: your new confirmation code is {code_spoken}. Please write it down. "
              "Goodbye.",
        "es": "Su cita se cambió para {when}. No puedo enviar un mensaje de texto a ese número, "
              "pero el cambio está confirmado: su nuevo código de confirmación es "
              "{code_spoken}. Por favor, anótelo. Adiós.",
    },
    "confirm_cancel": {
        "en": "To cancel your appointment on {when}, press 1 or say cancel. To keep it, press 2.",
        "es": "Para cancelar su cita {when}, oprima 1 o diga cancelar. Para mantenerla, "
              "oprima 2.",
    },
    "appointment_cancelled": {
        "en": "Your appointment on {when} is cancelled. We'll send you a text message to "
              "confirm. Goodbye.",
        "es": "Su cita {when} quedó cancelada. Le enviaremos un mensaje de texto para "
              "confirmarlo. Adiós.",
    },
    "appointment_cancelled_no_text": {
        "en": "Your appointment on {when} is cancelled. I can't text that number, but the "
              "cancellation is confirmed. Goodbye.",
        "es": "Su cita {when} quedó cancelada. No puedo enviar un mensaje de texto a ese "
              "número, pero la cancelación está confirmada. Adiós.",
    },
    # Text messages.
    "sms_confirmation": {
        "en": "{business}: your appointment is booked for {when}. Code {code}. "
              "Reply CONFIRM to confirm or CANCEL to cancel.",
        "es": "{business}: su cita quedó para {when}. Código {code}. "
              "Responda CONFIRMAR para confirmar o CANCELAR para cancelar.",
    },
    "sms_cancelled": {
        "en": "Your appointment on {when} is cancelled.",
        "es": "Su cita del {when} quedó cancelada.",
    },
    "sms_confirmed": {
        "en": "Thanks! Your appointment on {when} is confirmed.",
        "es": "¡Gracias! Su cita del {when} quedó confirmada.",
    },
    "sms_no_appointment": {
        "en": "We couldn't find an upcoming appointment for this number.",
        "es": "No encontramos ninguna cita próxima para este número.",
    },
    "sms_help": {
        "en": "Reply CONFIRM to confirm your next appointment or CANCEL to cancel it. "
              "To book, call us.",
        "es": "Responda CONFIRMAR para confirmar su próxima cita o CANCELAR para cancelarla. "
              "Para hacer una cita, llámenos.",
    },
    # Texted after a returning caller changed or cancelled an appointment by phone.
    "sms_changed": {
        "en": "{business}: your appointment on {before} is moved to {when}. New code {code}. "
              "Reply CONFIRM to confirm or CANCEL to cancel.",
        "es": "{business}: su cita del {before} se cambió al {when}. Nuevo código {code}. "
              "Responda CONFIRMAR para confirmar o CANCELAR para cancelar.",
    },
    "sms_call_cancelled": {
        "en": "{business}: your appointment on {when} is cancelled. Call us to book again.",
        "es": "{business}: su cita del {when} quedó cancelada. Llámenos para hacer otra cita.",
    },
}

# What a caller may say, lower-cased and without accents (see `normalise`).
WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "english": {"en": ("english", "ingles"), "es": ("english", "ingles")},
    "spanish": {"en": ("spanish", "espanol"), "es": ("espanol", "spanish", "castellano")},
    "book": {"en": ("appointment", "book", "schedule", "reservation"),
             "es": ("cita", "reservar", "agendar", "turno")},
    "message": {"en": ("message", "voicemail"), "es": ("mensaje", "recado")},
    "hours": {"en": ("hours", "open", "opening"), "es": ("horario", "horas", "abierto")},
    "person": {"en": ("person", "human", "someone", "representative", "agent", "operator"),
               "es": ("persona", "alguien", "representante", "agente", "operador")},
    # Yes and no at a "press 1 / press 2" question; phrases with a "no" in them that mean yes
    # ("no problem") are yeses (see ringly/voice/answers.py).
    "yes": {"en": ("yes", "yeah", "yep", "yup", "yes please", "sure", "correct", "confirm",
                   "right", "that s right", "ok", "okay", "perfect", "great", "sounds good",
                   "that works", "go ahead", "absolutely", "of course", "please do",
                   "no problem", "why not"),
            "es": ("si", "claro", "correcto", "confirmo", "confirmar", "de acuerdo", "vale",
                   "perfecto", "exacto", "esta bien", "dale", "ok", "okay", "asi es",
                   "por supuesto", "eso es", "bueno", "no hay problema", "por que no")},
    "no": {"en": ("no", "nope", "nah", "not", "wrong", "incorrect", "another", "different",
                  "change", "other"),
           "es": ("no", "otra", "otro", "cambiar", "incorrecto", "equivocado")},
    # A returning caller's answers about their appointment (ringly/voice/returning.py). The
    # negations count as "keep", so "don't cancel it" names both and is asked again.
    "keep": {"en": ("keep", "keep it", "leave it", "no", "don t", "dont", "do not", "not"),
             "es": ("mantener", "mantenerla", "mantengo", "mantengala", "mantenla", "conservar",
                    "conservarla", "conservela", "dejarla", "dejarla igual", "dejela", "dejala",
                    "no")},
    "change": {"en": ("change", "reschedule", "move", "another time", "different time"),
               "es": ("cambiar", "cambiarla", "cambio", "cambiela", "cambiala", "mover",
                      "moverla", "muevala", "reprogramar", "otra hora", "otro dia")},
    "cancel": {"en": ("cancel", "cancel it", "cancellation", "delete"),
               "es": ("cancelar", "cancelarla", "cancelo", "cancelela", "cancelala",
                      "cancelacion", "anular", "anularla", "anulela")},
}

# Picking an offered time by voice: "the second one", "la primera", "number two".
ORDINALS: dict[str, int] = {
    **dict.fromkeys(("first", "1st", "primera", "primero", "primer", "1a", "1o"), 1),
    **dict.fromkeys(("second", "2nd", "segunda", "segundo", "2a", "2o"), 2),
    **dict.fromkeys(("third", "3rd", "tercera", "tercero", "tercer", "3a", "3o"), 3),
    **dict.fromkeys(("fourth", "4th", "cuarta", "4a", "4o"), 4),
    **dict.fromkeys(("fifth", "5th", "quinta", "quinto", "5a", "5o"), 5),
    **dict.fromkeys(("last", "ultima", "ultimo"), -1),  # the last one offered
}
# A number said alone or as "number two", "la opción tres" ("la una" is one o'clock).
NUMBERS: dict[str, int] = {
    **dict.fromkeys(("1", "one", "uno"), 1), **dict.fromkeys(("2", "two", "dos"), 2),
    **dict.fromkeys(("3", "three", "tres"), 3), **dict.fromkeys(("4", "four", "cuatro"), 4),
    **dict.fromkeys(("5", "five", "cinco"), 5),
}

HINTS = {
    "language": "English, español, Spanish",
    "intent": {"en": "appointment, book, message, hours, person",
               "es": "cita, reservar, mensaje, horario, persona"},
    "yes_no": {"en": "yes, no, that's right, correct", "es": "sí, no, claro, correcto"},
    "pick": {"en": "the first one, the second one, the third one, number two",
             "es": "la primera, la segunda, la tercera, el número dos"},
    "returning": {"en": "keep, change, cancel", "es": "mantener, cambiar, cancelar"},
    "cancel-confirm": {"en": "cancel, keep, yes, no", "es": "cancelar, mantener, sí, no"},
}

_DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}
_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"),
}


def prompt(key: str, locale: str, **values: object) -> str:
    """The line `key` in `locale` with its placeholders filled."""
    text = PROMPTS[key][locale if locale in LOCALES else "en"]
    return text.format(**values) if values else text


def day_name(weekday: int, locale: str) -> str:
    return _DAYS[locale][weekday]


def clock(moment: datetime, locale: str) -> str:
    """A time of day as it is said: "2:30 PM" / "las 2:30 de la tarde"."""
    hour, minute = moment.hour, moment.minute
    if locale == "es":
        h12 = hour % 12 or 12
        part = "de la mañana" if hour < 12 else ("de la tarde" if hour < 20 else "de la noche")
        if hour == 12 and minute == 0:
            return "las 12 del mediodía"
        article = "la" if h12 == 1 else "las"
        return f"{article} {h12}{f':{minute:02d}' if minute else ''} {part}"
    suffix = "AM" if hour < 12 else "PM"
    if hour == 12 and minute == 0:
        return "12 noon"
    return f"{hour % 12 or 12}{f':{minute:02d}' if minute else ''} {suffix}"


_RELATIVE_DAYS = {"en": ("today", "tomorrow"), "es": ("hoy", "mañana")}


def spoken_when(moment: datetime, locale: str, today: date | None = None) -> str:
    """A local date and time as it is said: "Tuesday, December 1 at 2:30 PM". Given the local
    `today`, today and tomorrow are named first, so a caller hears the day they asked for:
    "tomorrow, Thursday December 3, at 10 AM" / "mañana, jueves 3 de diciembre, a las 10..."."""
    day = day_name(moment.weekday(), locale)
    relative = None
    if today is not None and moment.date() in (today, today + timedelta(days=1)):
        relative = _RELATIVE_DAYS["es" if locale == "es" else "en"][moment.date() != today]
    if locale == "es":
        month = _MONTHS["es"][moment.month - 1]
        if relative:
            return f"{relative}, {day} {moment.day} de {month}, a {clock(moment, 'es')}"
        return f"el {day} {moment.day} de {month} a {clock(moment, 'es')}"
    month = _MONTHS["en"][moment.month - 1]
    if relative:
        return f"{relative}, {day} {month} {moment.day}, at {clock(moment, 'en')}"
    return f"{day}, {month} {moment.day} at {clock(moment, 'en')}"


def short_when(moment: datetime, locale: str) -> str:
    """A local date and time for a text message: "Tue Dec 1, 2:30 PM" / "mar 1 dic, 14:30"."""
    if locale == "es":
        return (f"{_DAYS['es'][moment.weekday()][:3]} {moment.day} "
                f"{_MONTHS['es'][moment.month - 1][:3]}, {moment:%H:%M}")
    return (f"{_DAYS['en'][moment.weekday()][:3]} {_MONTHS['en'][moment.month - 1][:3]} "
            f"{moment.day}, {clock(moment, 'en')}")


def spoken_code(code: str) -> str:
    """A confirmation code read one character at a time."""
    return ", ".join(code)


def hours_summary(business_hours: dict[str, list[list[str]]], locale: str) -> str:
    """Opening hours grouped by runs of days with the same spans, as one spoken sentence."""
    keys = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    groups: list[tuple[int, int, list[list[str]]]] = []
    for index, key in enumerate(keys):
        spans = business_hours.get(key) or []
        if groups and groups[-1][2] == spans and groups[-1][1] == index - 1:
            groups[-1] = (groups[-1][0], index, spans)
        else:
            groups.append((index, index, spans))
    parts = []
    joiner, to_word, closed = (
        (" y ", " a ", "cerrado") if locale == "es" else (" and ", " to ", "closed")
    )
    for first, last, spans in groups:
        days = day_name(first, locale)
        if last > first:
            days += to_word + day_name(last, locale)
        if not spans:
            parts.append(f"{days}, {closed}")
            continue
        ranges = joiner.join(
            f"{_at(open_, locale)}{to_word}{_at(close, locale)}" for open_, close in spans
        )
        parts.append(f"{days}, {ranges}")
    if all(not spans for _, _, spans in groups):
        return prompt("closed_all_week", locale)
    return "; ".join(parts)


def _at(hhmm: str, locale: str) -> str:
    hour, minute = (int(part) for part in hhmm.split(":"))
    return clock(datetime(2000, 1, 1, hour % 24, minute), locale)
