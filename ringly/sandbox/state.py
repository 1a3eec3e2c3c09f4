"""Thread-safe store of owned numbers, messages and the ledger, optionally kept in a file."""

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
from ringly.sandbox.resources import apply_number_params, new_sid, number_resource, rfc2822_now


class SandboxState:
    """Everything the sandbox remembers; every public method is atomic under one lock."""

    def __init__(self, account_sid: str, state_file: str | os.PathLike[str] | None = None) -> None:
        self.account_sid = account_sid
        self.state_file = Path(state_file) if state_file else None
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

    def _save(self) -> None:
        if not self.state_file:
            return
        data = {
            "seq": self._seq,
            "numbers": self._numbers,
            "messages": self._messages,
            "ledger": self._ledger,
            "calls": self._calls,
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
            self._append_ledger("release", resource)
            self._save()

    def ledger(self) -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._ledger)

    # -- messages ------------------------------------------------------------------------

    def add_message(self, build: Callable[[str], dict]) -> dict:
        """Store the message ``build(sid)`` returns and hand back a copy."""
        with self._lock:
            resource = build(new_sid("SM"))
            self._messages.append({"seq": self._next_seq(), "resource": resource})
            self._save()
            return copy.deepcopy(resource)

    def messages(self) -> list[dict]:
        with self._lock:
            return [dict(copy.deepcopy(e["resource"]), _seq=e["seq"]) for e in self._messages]

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
