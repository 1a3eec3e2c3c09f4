"""Thread-safe store of numbers, Messaging Services, messages and the ledger, optionally on file."""

from __future__ import annotations

import copy
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from ringly.sandbox import inventory
from ringly.sandbox.errors import TwilioApiError, not_found
from ringly.sandbox.inventory import CatalogNumber
from ringly.sandbox.resources import (
    apply_number_params,
    iso8601_now,
    new_sid,
    number_resource,
    rfc2822_now,
)

# Twilio's default cap on the numbers in one Messaging Service (error 21714 beyond it).
MAX_SERVICE_NUMBERS = 400


class SandboxState:
    """Everything the sandbox remembers; every public method is atomic under one lock."""

    def __init__(
        self,
        account_sid: str,
        state_file: str | os.PathLike[str] | None = None,
        preset_services: Iterable[str] = (),
    ) -> None:
        self.account_sid = account_sid
        self.state_file = Path(state_file) if state_file else None
        # Messaging Services that exist from the start and again after every reset.
        self.preset_services = tuple(preset_services)
        self._lock = threading.RLock()
        self._clear()
        if self.state_file and self.state_file.exists():
            self._load()

    def _clear(self) -> None:
        self._seq = 0
        self._numbers: dict[str, dict] = {}  # sid -> {"seq": int, "resource": {...}}
        self._messages: list[dict] = []  # [{"seq": int, "resource": {...}}]
        self._ledger: list[dict] = []
        self._calls: dict[str, dict] = {}
        # sid -> {"seq", "friendly_name", "date_created", "numbers": {PN sid: {"seq", "at"}}}
        self._services: dict[str, dict] = {}
        for sid in self.preset_services:
            self._new_service(sid, "Ringly sandbox")

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # -- persistence ---------------------------------------------------------------------

    def _load(self) -> None:
        assert self.state_file is not None
        data = json.loads(self.state_file.read_text() or "{}")
        self._seq = data.get("seq", 0)
        self._numbers = data.get("numbers", {})
        self._messages = data.get("messages", [])
        self._ledger = data.get("ledger", [])
        self._calls = data.get("calls", {})
        self._services = {**self._services, **data.get("services", {})}

    def _save(self) -> None:
        if not self.state_file:
            return
        data = {
            "seq": self._seq,
            "numbers": self._numbers,
            "messages": self._messages,
            "ledger": self._ledger,
            "calls": self._calls,
            "services": self._services,
        }
        # Write-then-rename so a crash mid-write never leaves a truncated state file.
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.state_file.parent, prefix=".sandbox-state-")
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle)
        os.replace(tmp, self.state_file)

    def reset(self) -> None:
        with self._lock:
            self._clear()
            self._save()

    # -- numbers -------------------------------------------------------------------------

    def owned_phone_numbers(self) -> set[str]:
        with self._lock:
            return {entry["resource"]["phone_number"] for entry in self._numbers.values()}

    def owned_numbers(self) -> list[dict]:
        """Owned number resources, oldest purchase first."""
        with self._lock:
            entries = sorted(self._numbers.values(), key=lambda entry: entry["seq"])
            return [dict(copy.deepcopy(e["resource"]), _seq=e["seq"]) for e in entries]

    def purchase(self, number: CatalogNumber, params: dict[str, str]) -> dict:
        """Buy ``number`` unless someone already owns it (21422)."""
        with self._lock:
            if number.phone_number in self.owned_phone_numbers():
                raise TwilioApiError(
                    400, 21422, f"PhoneNumber {number.phone_number} is not available."
                )
            return self._record_purchase(number, params)

    def purchase_in_area_code(
        self, candidates: Iterable[CatalogNumber], area_code: str, params: dict[str, str]
    ) -> dict:
        """Buy the first still-available candidate, atomically (21452 when none is left)."""
        with self._lock:
            owned = self.owned_phone_numbers()
            for number in candidates:
                if number.phone_number not in owned:
                    return self._record_purchase(number, params)
        raise TwilioApiError(400, 21452, f"No phone numbers found in area code {area_code}.")

    def _record_purchase(self, number: CatalogNumber, params: dict[str, str]) -> dict:
        sid = new_sid("PN")
        resource = number_resource(
            account_sid=self.account_sid, sid=sid, number=number, params=params
        )
        self._numbers[sid] = {"seq": self._next_seq(), "resource": resource}
        self._append_ledger("purchase", resource)
        self._save()
        return copy.deepcopy(resource)

    def _append_ledger(self, event: str, resource: dict) -> None:
        self._ledger.append(
            {
                "event": event,
                "sid": resource["sid"],
                "phone_number": resource["phone_number"],
                "friendly_name": resource["friendly_name"],
                "at": rfc2822_now(),
            }
        )

    def get_number(self, sid: str) -> dict:
        with self._lock:
            entry = self._numbers.get(sid)
            if entry is None:
                raise not_found(
                    f"The requested resource /IncomingPhoneNumbers/{sid}.json was not found"
                )
            return copy.deepcopy(entry["resource"])

    def number_by_phone(self, phone_number: str) -> dict | None:
        with self._lock:
            for entry in self._numbers.values():
                if entry["resource"]["phone_number"] == phone_number:
                    return copy.deepcopy(entry["resource"])
            return None

    def update_number(self, sid: str, params: dict[str, str]) -> dict:
        with self._lock:
            self.get_number(sid)
            resource = self._numbers[sid]["resource"]
            apply_number_params(resource, params)
            self._save()
            return copy.deepcopy(resource)

    def release_number(self, sid: str) -> None:
        with self._lock:
            resource = self.get_number(sid)
            del self._numbers[sid]
            # A released number leaves its Messaging Service with it, as at Twilio.
            for service in self._services.values():
                service["numbers"].pop(sid, None)
            self._append_ledger("release", resource)
            self._save()

    def ledger(self) -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._ledger)

    # -- messages ------------------------------------------------------------------------

    def add_message(self, build: Callable[[str], dict], status_callback: str | None = None) -> dict:
        """Store the message ``build(sid)`` returns and hand back a copy.

        It waits to be delivered (``settle_messages``), which posts ``status_callback``."""
        with self._lock:
            resource = build(new_sid("SM"))
            self._messages.append(
                {
                    "seq": self._next_seq(),
                    "resource": resource,
                    "status_callback": status_callback or None,
                    "settled": False,
                }
            )
            self._save()
            return copy.deepcopy(resource)

    def settle_messages(
        self, outcome: Callable[[dict], tuple[str, int | None, str | None]]
    ) -> list[dict]:
        """Deliver every message still waiting: ``outcome(resource)`` gives its final status,
        error code and error message. Returns [{"resource", "status_callback"}] settled now."""
        settled = []
        with self._lock:
            for entry in self._messages:
                if entry.get("settled", True):
                    continue
                resource = entry["resource"]
                status, error_code, error_message = outcome(copy.deepcopy(resource))
                now = rfc2822_now()
                resource.update(status=status, error_code=error_code,
                                error_message=error_message, date_sent=now, date_updated=now)
                entry["settled"] = True
                settled.append({"resource": copy.deepcopy(resource),
                                "status_callback": entry.get("status_callback")})
            if settled:
                self._save()
        return settled

    def messages(self) -> list[dict]:
        with self._lock:
            return [dict(copy.deepcopy(e["resource"]), _seq=e["seq"]) for e in self._messages]

    # -- Messaging Services ----------------------------------------------------------------

    def _new_service(self, sid: str, friendly_name: str) -> dict:
        service = {"seq": self._next_seq(), "friendly_name": friendly_name,
                   "date_created": iso8601_now(), "numbers": {}}
        self._services[sid] = service
        return service

    def create_service(self, sid: str | None = None, friendly_name: str = "") -> tuple[dict, bool]:
        """The Messaging Service with this sid (made if new, else kept) and whether it is new."""
        with self._lock:
            sid = sid or new_sid("MG")
            created = sid not in self._services
            if created:
                self._new_service(sid, friendly_name or "Ringly sandbox")
                self._save()
            return self._service_summary(sid), created

    def _service_summary(self, sid: str) -> dict:
        service = self._services[sid]
        members = sorted(service["numbers"].items(), key=lambda item: item[1]["seq"])
        return {
            "sid": sid,
            "friendly_name": service["friendly_name"],
            "phone_numbers": [self._numbers[pn]["resource"]["phone_number"] for pn, _ in members],
        }

    def services(self) -> list[dict]:
        with self._lock:
            ordered = sorted(self._services, key=lambda sid: self._services[sid]["seq"])
            return [self._service_summary(sid) for sid in ordered]

    def _service(self, service_sid: str) -> dict:
        service = self._services.get(service_sid)
        if service is None:
            raise not_found(f"The requested resource /Services/{service_sid} was not found")
        return service

    def add_to_service(self, service_sid: str, number_sid: str) -> dict:
        """Put an owned, SMS- or MMS-capable number in the service's sender pool (once)."""
        with self._lock:
            service = self._service(service_sid)
            entry = self._numbers.get(number_sid)
            if entry is None:
                raise TwilioApiError(400, 21421, f"Phone Number Sid {number_sid} is invalid.")
            if number_sid in service["numbers"]:
                raise TwilioApiError(
                    409, 21710, "Phone Number or Short Code is already in the Messaging Service."
                )
            if any(number_sid in other["numbers"] for other in self._services.values()):
                raise TwilioApiError(
                    409, 21712,
                    "Phone Number or Short Code is associated with another Messaging Service.",
                )
            capabilities = entry["resource"]["capabilities"]
            if not (capabilities.get("sms") or capabilities.get("mms")):
                raise TwilioApiError(
                    400, 21715, "Phone Number does not have correct Messaging Service capabilities."
                )
            if len(service["numbers"]) >= MAX_SERVICE_NUMBERS:
                raise TwilioApiError(
                    412, 21714, "Messaging Service Number Pool size limit reached."
                )
            service["numbers"][number_sid] = {"seq": self._next_seq(), "at": iso8601_now()}
            self._save()
            return self._member(service_sid, number_sid)

    def _member(self, service_sid: str, number_sid: str) -> dict:
        membership = self._services[service_sid]["numbers"][number_sid]
        return {
            "service_sid": service_sid,
            "number": copy.deepcopy(self._numbers[number_sid]["resource"]),
            "date_created": membership["at"],
            "_seq": membership["seq"],
        }

    def service_numbers(self, service_sid: str) -> list[dict]:
        """The service's numbers, first added first (404/20404 for an unknown service)."""
        with self._lock:
            members = self._service(service_sid)["numbers"]
            ordered = sorted(members, key=lambda pn: members[pn]["seq"])
            return [self._member(service_sid, pn) for pn in ordered]

    def service_number(self, service_sid: str, number_sid: str) -> dict:
        with self._lock:
            if number_sid not in self._service(service_sid)["numbers"]:
                raise not_found(
                    f"The requested resource /Services/{service_sid}/PhoneNumbers/{number_sid} "
                    "was not found"
                )
            return self._member(service_sid, number_sid)

    def remove_from_service(self, service_sid: str, number_sid: str) -> None:
        with self._lock:
            self.service_number(service_sid, number_sid)
            del self._services[service_sid]["numbers"][number_sid]
            self._save()

    def service_of(self, phone_number: str) -> str | None:
        """The Messaging Service whose pool holds this number, if any."""
        with self._lock:
            for sid, service in self._services.items():
                for number_sid in service["numbers"]:
                    if self._numbers[number_sid]["resource"]["phone_number"] == phone_number:
                        return sid
            return None

    # -- simulated calls -----------------------------------------------------------------

    def save_call(self, call: dict) -> None:
        with self._lock:
            self._calls[call["call_sid"]] = copy.deepcopy(call)
            self._save()

    def get_call(self, call_sid: str) -> dict | None:
        with self._lock:
            call = self._calls.get(call_sid)
            return copy.deepcopy(call) if call else None


def available_candidates(numbers: Iterable[CatalogNumber], owned: set[str]) -> list[CatalogNumber]:
    """Numbers from ``numbers`` nobody owns right now."""
    return [number for number in numbers if number.phone_number not in owned]


def area_code_candidates(area_code: str) -> list[CatalogNumber]:
    """What ``AreaCode=`` purchases may pick from, in the order they are picked."""
    if area_code == "500":
        return [inventory.magic_number()]
    return list(inventory.numbers_for_area_code(area_code, "local"))
