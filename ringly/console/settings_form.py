"""A client's settings as an HTML form: its fields to and from what the API's ClientSchema takes,
so the console's changes are checked exactly as `PATCH /api/clients/<id>` checks them."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError

from ringly.clients.models import BOOKING_RULE_BOUNDS, WEEKDAYS, Client
from ringly.clients.schemas import ClientSchema

DAY_NAMES = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
             "fri": "Friday", "sat": "Saturday", "sun": "Sunday"}
RULES = tuple(BOOKING_RULE_BOUNDS)
RULE_LABELS = {"slot_minutes": "Appointment length (minutes)",
               "buffer_minutes": "Gap after each appointment (minutes)",
               "min_notice_minutes": "Minimum notice (minutes)",
               "horizon_days": "Bookable up to (days ahead)",
               "max_per_slot": "Appointments at the same time"}
_SPAN = re.compile(r"^\s*([0-9]{1,2}:[0-9]{2})\s*[-–]\s*([0-9]{1,2}:[0-9]{2})\s*$")
_RANGE = re.compile(r"^\s*(\S+)\s*(?:(?:to|–|\.\.|-{1,2}>?)\s*(\S+))?\s*$")


def hours_text(spans: list[list[str]]) -> str:
    return ", ".join(f"{opens}-{closes}" for opens, closes in spans)


def closed_text(ranges: list[dict[str, str]]) -> str:
    return "\n".join(item["from"] if item["from"] == item["to"] else
                     f"{item['from']} to {item['to']}" for item in ranges or [])


def form_values(client: Client) -> dict[str, Any]:
    """The form as the client's current settings fill it."""
    values = {"custom_greeting": client.custom_greeting or "",
              "rachel_enabled": client.rachel_enabled, "active": client.active,
              "timezone": client.timezone, "forwarding_number": client.forwarding_number or "",
              "closed_dates": closed_text(client.closed_dates)}
    values.update({f"hours_{day}": hours_text((client.business_hours or {}).get(day, []))
                   for day in WEEKDAYS})
    values.update({rule: str(getattr(client, rule)) for rule in RULES})
    return values


def _padded(time_text: str) -> str:
    hours, minutes = time_text.split(":")
    return f"{int(hours):02d}:{minutes}"


def read_form(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """(the changes as ClientSchema loaded them, each form field's error) from a posted form."""
    errors: dict[str, str] = {}
    raw: dict[str, Any] = {
        "custom_greeting": form.get("custom_greeting", "").strip() or None,
        "rachel_enabled": form.get("rachel_enabled") == "on",
        "active": form.get("active") == "on",
        "timezone": form.get("timezone", "").strip(),
        "forwarding_number": re.sub(r"[\s().-]", "", form.get("forwarding_number", "")) or None,
    }
    hours: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        text = form.get(f"hours_{day}", "").strip()
        spans = [part for part in re.split(r"[,;]", text) if part.strip()]
        matches = [_SPAN.match(part) for part in spans]
        if not all(matches):
            errors[f"hours_{day}"] = "Write opening hours as 09:00-17:00, several separated by " \
                                     "commas; leave empty when closed."
            continue
        hours[day] = [[_padded(match.group(1)), _padded(match.group(2))] for match in matches]
    raw["business_hours"] = hours
    for rule in RULES:
        text = form.get(rule, "").strip()
        if not re.fullmatch(r"[0-9]{1,6}", text):
            low, high = BOOKING_RULE_BOUNDS[rule]
            errors[rule] = f"A whole number from {low} to {high}."
        else:
            raw[rule] = int(text)
    closed = []
    for number, line in enumerate(form.get("closed_dates", "").splitlines(), start=1):
        if not line.strip():
            continue
        match = _RANGE.match(line)
        if match is None:
            errors["closed_dates"] = f"Line {number}: write a date (2026-12-25) or a range " \
                                     "(2026-12-24 to 2026-12-26)."
            break
        closed.append({"from": match.group(1), "to": match.group(2) or match.group(1)})
    raw["closed_dates"] = closed
    try:
        changes = ClientSchema().load(raw)
    except ValidationError as error:
        errors.update({name: message for name, message in field_errors(error.messages).items()
                       if name not in errors})
        changes = {}
    return changes, errors


def field_errors(messages: Mapping[str, Any]) -> dict[str, str]:
    """marshmallow's (or InvalidInput's) errors keyed by the form's own field names."""
    found: dict[str, str] = {}
    for name, message in messages.items():
        if name == "business_hours" and isinstance(message, Mapping):
            for day, day_message in message.items():
                found[f"hours_{day}" if day in WEEKDAYS else "hours_mon"] = _text(day_message)
        elif name == "closed_dates" and isinstance(message, Mapping):
            line, detail = next(iter(message.items()))
            found["closed_dates"] = f"Line {int(line) + 1}: {_text(detail)}" \
                if str(line).isdigit() else _text(detail)
        elif name == "timezone":
            found[name] = "Choose a time zone from the list (an IANA name such as " \
                          "America/Chicago)."
        else:
            found[name] = _text(message)
    return found


def _text(message: Any) -> str:
    if isinstance(message, Mapping):
        return "; ".join(f"{key}: {_text(value)}" for key, value in message.items())
    if isinstance(message, (list, tuple)):
        return " ".join(_text(item) for item in message)
    return str(message)


def changed(client: Client, loaded: dict[str, Any]) -> dict[str, Any]:
    """Only the settings that differ from the client's, so the audit log names what changed."""
    return {name: value for name, value in loaded.items() if getattr(client, name) != value}

