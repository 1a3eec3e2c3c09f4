"""The mixed traffic of `make load`: provisions, job polls, searches, list reads and simulated
calls, each at its own paced rate, every answer recorded with its time and status."""
from __future__ import annotations

import itertools
import random
import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

AREA_CODES = ("415", "212", "512", "206", "617", "303", "312", "305", "404", "602")
PROBLEM = "application/problem+json"
# A careful client retries a provision refused with a 503 (same Idempotency-Key, after
# Retry-After) until this many attempts; the outages last seconds.
PROVISION_ATTEMPTS = 12
BOOKED = "You're booked for"


@dataclass
class Sample:
    """One answered (or failed) request: route, when it started (s from t0), ms, status."""

    route: str
    at: float
    ms: float
    status: int | None  # None: no answer (connection refused, reset, timeout)
    problem: bool = False  # the answer was application/problem+json

    def ok(self) -> bool:
        return self.status is not None and self.status < 400


@dataclass
class CallOutcome:
    caller: str
    to: str
    at: float
    seconds: float
    booked: bool
    status: str
    errors: list = field(default_factory=list)


class Traffic:
    """Paced open-loop traffic: request i of a kind starts at t0 + i / rate, on a thread pool,
    so a slow answer delays nothing else and latency is not hidden by waiting for it."""

    def __init__(self, web_url: str, sandbox_url: str, api_key: str,
                 call_numbers: list[str], call_clients: list[int], seed: int = 11) -> None:
        self.web = web_url
        self.sandbox = sandbox_url
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.call_numbers = call_numbers
        self.call_clients = call_clients
        self.rng = random.Random(seed)
        self.samples: list[Sample] = []
        self.calls: list[CallOutcome] = []
        self.accepted_jobs: list[str] = []
        self.abandoned_provisions = 0
        self.late = 0
        self.t0 = 0.0
        self._lock = threading.Lock()
        self._local = threading.local()
        self._counter = itertools.count()

    # -- plumbing ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget the answers (after the warm-up); jobs accepted and calls placed stay, so the
        accounting at the end covers them too."""
        with self._lock:
            self.samples.clear()
            self.late = 0

    def now(self) -> float:
        return time.monotonic() - self.t0

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def _record(self, sample: Sample) -> None:
        with self._lock:
            self.samples.append(sample)

    def request(self, route: str, method: str, path: str, **kwargs) -> requests.Response | None:
        started = self.now()
        try:
            response = self._session().request(method, self.web + path, headers={
                **self.headers, **kwargs.pop("headers", {})}, timeout=30, **kwargs)
        except requests.RequestException:
            self._record(Sample(route, started, (self.now() - started) * 1000, None))
            return None
        self._record(Sample(route, started, response.elapsed.total_seconds() * 1000,
                            response.status_code,
                            response.headers.get("Content-Type", "").startswith(PROBLEM)))
        return response

    # -- the operations ---------------------------------------------------------------------

    def provision(self) -> None:
        n = next(self._counter)
        body: dict = {"business_name": f"Load Shop {n}", "email": f"load{n}@example.com"}
        if n % 5 == 4:
            body["tollFree"] = True
        else:
            body["areaCode"] = AREA_CODES[n % len(AREA_CODES)]
        key = {"Idempotency-Key": f"load-{uuid.uuid4().hex}"}
        for _ in range(PROVISION_ATTEMPTS):
            response = self.request("POST /api/clients/provision", "POST",
                                    "/api/clients/provision", json=body, headers=key)
            if response is not None and response.status_code == 202:
                with self._lock:
                    self.accepted_jobs.append(response.json()["job"]["id"])
                return
            wait = 1.0
            if response is not None and response.headers.get("Retry-After", "").isdigit():
                wait = float(response.headers["Retry-After"])
            time.sleep(wait)
            # gunicorn closes a connection idle for 5 s (its keepalive): a kept one reused just
            # then is reset under the request, which says nothing about the service.
            self._session().close()
        with self._lock:
            self.abandoned_provisions += 1

    def poll_job(self) -> None:
        with self._lock:
            recent = self.accepted_jobs[-40:]
        if recent:
            self.request("GET /api/provisioning-jobs/{id}", "GET",
                         f"/api/provisioning-jobs/{self.rng.choice(recent)}")

    def list_jobs(self) -> None:
        self.request("GET /api/provisioning-jobs", "GET", "/api/provisioning-jobs?limit=20")

    def list_clients(self) -> None:
        self.request("GET /api/clients", "GET", "/api/clients?limit=20")

    def client_records(self) -> None:
        kind = self.rng.choice(("calls", "appointments", "messages"))
        client_id = self.rng.choice(self.call_clients)
        self.request(f"GET /api/clients/{{id}}/{kind}", "GET",
                     f"/api/clients/{client_id}/{kind}?limit=20")

    def search(self) -> None:
        self.request("POST /api/clients/search-numbers", "POST", "/api/clients/search-numbers",
                     json={"areaCode": self.rng.choice(AREA_CODES), "limit": 10})

    def call(self) -> None:
        """A caller books an appointment through the sandbox's call simulator (signed webhooks
        to the number's voice URL, as Twilio sends them); every caller is new."""
        n = next(self._counter)
        caller = f"+1224{2000000 + n:07d}"  # 224 is no sandbox area code: never a Ringly number
        to = self.call_numbers[n % len(self.call_numbers)]
        hour = 9 + (n // len(self.call_numbers)) % 8
        when = f"tomorrow at {hour if hour <= 12 else hour - 12} {'am' if hour < 12 else 'pm'}"
        inputs = [{"digits": "1"}, {"digits": "1"}, {"speech": f"Caller {n}"}, {"digits": "1"},
                  {"speech": when}, {"digits": "1"}]
        started = self.now()
        try:
            answer = self._session().post(f"{self.sandbox}/sandbox/calls", timeout=120, json={
                "to": to, "from": caller, "inputs": inputs}).json()
        except (requests.RequestException, ValueError):
            with self._lock:
                self.calls.append(CallOutcome(caller, to, started, self.now() - started, False,
                                              "no answer"))
            return
        offset = started
        for entry in answer.get("transcript", []):
            if "request" not in entry:
                continue
            path = re.sub(r"^https?://[^/]+", "", entry["request"]).split("?")[0]
            self._record(Sample("POST " + re.sub(r"/\d+(?=/|$)", "/{n}", path), offset,
                                float(entry.get("ms") or 0), entry.get("status")))
            offset += (entry.get("ms") or 0) / 1000
        booked = any(BOOKED in line for line in answer.get("heard", []))
        with self._lock:
            self.calls.append(CallOutcome(caller, to, started, self.now() - started, booked,
                                          answer.get("status", "?"), answer.get("errors", [])))

    # -- pacing -----------------------------------------------------------------------------

    def run(self, rates: dict[str, float], seconds: float, threads: int = 64,
            t0: float | None = None) -> None:
        """Every operation named in `rates` (per second) for `seconds`; returns when all the
        requests started have been answered."""
        operations: dict[str, Callable[[], None]] = {
            "provision": self.provision, "poll": self.poll_job, "jobs": self.list_jobs,
            "clients": self.list_clients, "records": self.client_records,
            "search": self.search, "call": self.call}
        self.t0 = t0 if t0 is not None else time.monotonic()
        schedule = sorted((index / rate, name) for name, rate in rates.items() if rate > 0
                          for index in range(int(rate * seconds)))
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for slot, name in schedule:
                delay = slot - self.now()
                if delay > 0:
                    time.sleep(delay)
                elif delay < -0.05:
                    self.late += 1
                pool.submit(operations[name])
