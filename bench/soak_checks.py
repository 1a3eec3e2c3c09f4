"""What `make load` checks after the run: resident memory of the processes, and that no job,
booking or text was lost and no number bought twice (the sandbox's ledger against the database)."""
from __future__ import annotations

import collections
import os
import time
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
from flask import Flask

from bench.soak_traffic import CallOutcome
from ringly.booking.models import Appointment
from ringly.db import db
from ringly.messaging.models import Message
from ringly.provisioning.models import PhoneNumber, ProvisioningJob
from ringly.provisioning.numbers import tag_from_friendly_name

TERMINAL = ("completed", "failed")
# Outbound texts not yet handed to Twilio for good: the outbox sweep still owes them a send.
PENDING_TEXT = ("queued", "retrying", "unknown")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def rss_mib(pid: int) -> float:
    """Resident set size from /proc/<pid>/status (VmRSS), in MiB; 0 for a process gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def memory(parents: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Per process group (web: the gunicorn master and every worker; worker: the Celery main
    process and every pool process; beat): each pid's RSS and their total."""
    out = {}
    for name, pid in parents.items():
        pids = [pid, *_children(pid)]
        each = {p: rss_mib(p) for p in pids}
        out[name] = {"pids": each, "total": sum(each.values()), "children": len(pids) - 1}
    return out


def pending_work(app: Flask) -> tuple[int, int]:
    """Jobs not yet terminal, and outbound texts the outbox still owes a send."""
    with app.app_context():
        jobs = db.session.scalar(sa.select(sa.func.count()).select_from(ProvisioningJob)
                                 .where(ProvisioningJob.state.not_in(TERMINAL))) or 0
        texts = db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
            Message.direction == "outbound", Message.channel == "sms",
            Message.status.in_(PENDING_TEXT))) or 0
        db.session.remove()
    return jobs, texts


def drain(app: Flask, seconds: float) -> tuple[float, tuple[int, int]]:
    """Wait (the worker and beat's sweeps at work) until nothing is pending, at most `seconds`."""
    started = time.monotonic()
    left = pending_work(app)
    while any(left) and time.monotonic() - started < seconds:
        time.sleep(2)
        left = pending_work(app)
    return time.monotonic() - started, left


def _sandbox(sandbox_url: str, path: str) -> list[dict[str, Any]]:
    response = requests.get(f"{sandbox_url}/sandbox/{path}", timeout=30)
    response.raise_for_status()
    return response.json()[path]


def account(app: Flask, sandbox_url: str, accepted: list[str],
            calls: list[CallOutcome]) -> dict[str, Any]:
    """Compare what callers were told with what the database and the sandbox hold."""
    ledger = _sandbox(sandbox_url, "ledger")
    owned = {number["sid"] for number in _sandbox(sandbox_url, "numbers")}
    at_twilio = _sandbox(sandbox_url, "messages")
    sent_at_twilio = {message["sid"] for message in at_twilio}
    # The same words to the same person twice (each confirmation names its own code).
    per_text = collections.Counter((message.get("to"), message.get("body"))
                                   for message in at_twilio)
    with app.app_context():
        all_jobs = list(db.session.scalars(sa.select(ProvisioningJob)))
        jobs = {job.id: str(getattr(job.state, "value", job.state)) for job in all_jobs}
        reruns = [job.attempts for job in all_jobs if (job.attempts or 0) > 1]
        rows = {row.sid: row.status for row in db.session.scalars(sa.select(PhoneNumber))}
        appointments = list(db.session.scalars(sa.select(Appointment)))
        texts = list(db.session.scalars(sa.select(Message).where(
            Message.direction == "outbound", Message.channel == "sms")))
        db.session.remove()
    bought = [entry for entry in ledger if entry["event"] == "purchase"]
    per_tag = collections.Counter(tag_from_friendly_name(entry["friendly_name"])
                                  for entry in bought)
    held = {sid for sid, status in rows.items() if status != "released"}
    booked_callers = {appointment.customer_phone for appointment in appointments}
    confirmed = {text.appointment_id for text in texts if text.purpose == "confirmation"}
    return {
        "jobs": collections.Counter(jobs.values()),
        "accepted": len(accepted),
        "jobs_run_again": len(reruns), "most_attempts": max(reruns, default=1),
        "accepted_missing": sum(1 for job_id in accepted if job_id not in jobs),
        "accepted_not_terminal": sum(1 for job_id in accepted
                                     if jobs.get(job_id) not in TERMINAL),
        "purchases": len(bought),
        "duplicate_purchases": sum(count - 1 for count in per_tag.values() if count > 1),
        "orphans": len(owned - held),  # Twilio bills it, no live record in the database
        "ghosts": len(held - owned),  # recorded live, not owned at Twilio
        "purchases_unrecorded": len({entry["sid"] for entry in bought} - set(rows)),
        "calls": len(calls),
        "calls_booked": sum(1 for call in calls if call.booked),
        "bookings_lost": sum(1 for call in calls
                             if call.booked and call.caller not in booked_callers),
        "appointments": len(appointments),
        "appointments_without_confirmation_text": sum(
            1 for appointment in appointments if appointment.id not in confirmed),
        "texts": collections.Counter(text.status for text in texts),
        "texts_pending": sum(1 for text in texts if text.status in PENDING_TEXT),
        "texts_sent_unknown_to_twilio": sum(
            1 for text in texts if text.sid and text.sid not in sent_at_twilio),
        "texts_sent_twice": sum(count - 1 for count in per_text.values() if count > 1),
    }


def handovers_lost(logs: list[Path]) -> int:
    """Tasks a process committed work for but could not hand to the broker (it was down): the
    stale-job and outbox sweeps send them later."""
    return sum(log.read_text(errors="replace").count("could not queue") for log in logs
               if log.exists())


def processes_alive(pids: dict[str, int]) -> dict[str, bool]:
    return {name: Path(f"/proc/{pid}").exists() for name, pid in pids.items()}


def environment_note() -> str:
    load = os.getloadavg()
    return (f"{os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
            "(1 / 5 / 15 min)")
