"""Provision requests from an operator: one from options, many from a CSV file, each keyed by its
content so that running the same request again (an interrupted file, a second run) never makes a
second job, nor buys a second number."""
from __future__ import annotations

import csv
import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from marshmallow import ValidationError

from ringly.db import db
from ringly.errors import Conflict, InvalidInput
from ringly.provisioning import guard
from ringly.provisioning.models import PhoneNumber, ProvisioningJob
from ringly.provisioning.schemas import ProvisionRequestSchema
from ringly.provisioning.services import Submission, fingerprint, submit_provision
from ringly.provisioning.states import JobState

# The file's columns, by the API's names; snake_case spellings are accepted too.
REQUIRED_COLUMNS = ("business_name", "email")
OPTIONAL_COLUMNS = ("areaCode", "tollFree", "phoneNumber", "timezone")
ALIASES = {"area_code": "areaCode", "toll_free": "tollFree", "phone_number": "phoneNumber"}
CHOICES = ("areaCode", "tollFree", "phoneNumber")
MAX_ROWS = 10_000
TRUE_WORDS = frozenset({"true", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", ""})
RESULT_COLUMNS = ("line", "business_name", "email", "idempotency_key", "job_id", "status",
                  "phone_number", "error")
# What a row that never got a job says instead of a job's state.
INVALID, DUPLICATE, NOT_SUBMITTED = "invalid", "duplicate", "not_submitted"


def field_errors(messages: Any) -> str:
    """marshmallow's {field: [message, …]} as `field: message; field: message`."""
    if isinstance(messages, dict):
        return "; ".join(f"{name}: {field_errors(value)}" for name, value in messages.items())
    if isinstance(messages, list | tuple):
        return ", ".join(field_errors(value) for value in messages)
    return str(messages)


def operator_request(values: dict[str, Any]) -> dict[str, Any]:
    """A provision request body from an operator's values (options or a CSV row), checked by the
    API's own schema; at most one of areaCode, tollFree and phoneNumber. Raises InvalidInput."""
    body = {name: value.strip() if isinstance(value, str) else value
            for name, value in values.items()}
    body = {name: value for name, value in body.items() if value not in (None, "")}
    if isinstance(body.get("tollFree"), str):
        word = body["tollFree"].lower()
        if word not in TRUE_WORDS | FALSE_WORDS:
            raise InvalidInput("invalid request", errors={"tollFree": ["not a yes/no value"]})
        body["tollFree"] = word in TRUE_WORDS
    if body.get("tollFree") is False:
        del body["tollFree"]
    chosen = [name for name in CHOICES if body.get(name)]
    if len(chosen) > 1:
        both = " and ".join(chosen)
        raise InvalidInput("invalid request", errors={
            chosen[1]: [f"give one of areaCode, tollFree and phoneNumber, not {both}"]})
    try:
        return ProvisionRequestSchema().load(body)
    except ValidationError as error:
        raise InvalidInput("invalid request", errors=error.messages) from None


def operator_key(body: dict[str, Any]) -> str:
    """The Idempotency-Key of an operator's request: a hash of the checked request, so the same
    business, email and choice of number always name the same job."""
    return f"cli-{fingerprint(body)}"


def submit(body: dict[str, Any], key: str | None = None) -> Submission:
    """Submit as the API does, under the operator's key (derived from the request unless given)."""
    return submit_provision(body, idempotency_key=key or operator_key(body))


@dataclass
class BulkRow:
    """One line of the file and what became of it."""

    line: int
    values: dict[str, str]
    body: dict[str, Any] | None = None
    key: str | None = None
    status: str = NOT_SUBMITTED
    job_id: str | None = None
    phone_number: str | None = None
    error: str | None = None
    created: bool = False
    same_as: int | None = None  # the line this one repeats

    @property
    def submittable(self) -> bool:
        return self.body is not None and self.status not in (INVALID, DUPLICATE)

    def result(self) -> dict[str, Any]:
        return {"line": self.line, "business_name": self.values.get("business_name", ""),
                "email": self.values.get("email", ""), "idempotency_key": self.key,
                "job_id": self.job_id, "status": self.status,
                "phone_number": self.phone_number, "error": self.error}


def read_rows(path: Path) -> list[BulkRow]:
    """Every row of the CSV file, each checked (an invalid row is marked, not fatal; a row the
    same as an earlier one is marked a duplicate of it). A file that cannot be read as such a
    CSV raises InvalidInput."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise InvalidInput(f"{path} is empty: the first line names the columns")
            columns = _columns(header, path)
            rows = []
            for cells in reader:
                if not any(cell.strip() for cell in cells):
                    continue  # a blank line
                if len(rows) >= MAX_ROWS:
                    raise InvalidInput(f"{path} has more than {MAX_ROWS} rows: split it")
                rows.append(_row(reader.line_num, columns, cells))
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text") from None
    except csv.Error as error:
        raise InvalidInput(f"{path} is not a readable CSV file: {error}") from None
    except OSError as error:
        raise InvalidInput(f"cannot read {path}: {error.strerror or error}") from None
    first_line: dict[str, int] = {}
    for row in rows:
        if row.key is None:
            continue
        if row.key in first_line:
            row.status, row.same_as = DUPLICATE, first_line[row.key]
            row.error = f"the same request as line {row.same_as}"
        else:
            first_line[row.key] = row.line
    return rows


def _columns(header: list[str], path: Path) -> list[str]:
    columns = [ALIASES.get(name.strip(), name.strip()) for name in header]
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    unknown = [name for name in columns if name not in known]
    if unknown:
        raise InvalidInput(f"{path}: unknown column {unknown[0]!r} (the columns are "
                           f"{', '.join(known)})")
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise InvalidInput(f"{path}: no {missing[0]!r} column (the first line names the columns: "
                           f"{', '.join(REQUIRED_COLUMNS)}, then any of "
                           f"{', '.join(OPTIONAL_COLUMNS)})")
    if len(set(columns)) != len(columns):
        raise InvalidInput(f"{path}: a column is named twice")
    return columns


def _row(line: int, columns: list[str], cells: list[str]) -> BulkRow:
    row = BulkRow(line, dict(zip(columns, cells, strict=False)))
    if len(cells) > len(columns):
        row.status, row.error = INVALID, f"{len(cells)} cells but {len(columns)} columns"
        return row
    try:
        row.body = operator_request(row.values)
    except InvalidInput as error:
        row.status, row.error = INVALID, field_errors(error.errors) or error.detail
        return row
    row.key = operator_key(row.body)
    return row


def jobs_by_key(keys: Collection[str]) -> dict[str, str]:
    """The jobs operator keys already name ({key: job id}): the rows a run would not submit anew."""
    found: dict[str, str] = {}
    keys = list(keys)
    for start in range(0, len(keys), 500):
        found.update(db.session.execute(
            sa.select(ProvisioningJob.idempotency_key, ProvisioningJob.id).where(
                ProvisioningJob.api_key_id.is_(None),
                ProvisioningJob.idempotency_key.in_(keys[start:start + 500]))).all())
    db.session.rollback()
    return found


def check_headroom(new_requests: int) -> None:
    """Refuse up front a file the spending guard would stop half way: past the cap every job
    fails `spending_limit`, so say so before anything is submitted."""
    if new_requests <= 0:
        return
    allowed, setting = guard.headroom()
    db.session.rollback()
    if new_requests > allowed:
        raise Conflict(f"{new_requests} rows need a new number but the spending guard allows "
                       f"{allowed} more now ({setting}={current_app.config[setting]}): split the "
                       "file or raise the limit")


def submit_row(row: BulkRow) -> BulkRow:
    """Submit one checked row (or find the job its key already names); commits."""
    try:
        submission = submit(row.body, row.key)
    except Conflict as error:
        db.session.rollback()
        row.status, row.error = INVALID, error.detail
        return row
    row.job_id, row.created = submission.job.id, submission.created
    row.status = str(submission.job.state)
    return row


def settle(rows: Iterable[BulkRow]) -> None:
    """Each submitted row's job as it stands now: state, number, error (and a duplicate row
    names the job of the line it repeats)."""
    rows = list(rows)
    job_of_key = {row.key: row.job_id for row in rows if row.job_id}
    for row in rows:
        if row.status == DUPLICATE:
            row.job_id = job_of_key.get(row.key)
    rows = [row for row in rows if row.job_id and row.status != DUPLICATE]
    ids = [row.job_id for row in rows]
    jobs: dict[str, ProvisioningJob] = {}
    for start in range(0, len(ids), 500):
        jobs.update((job.id, job) for job in db.session.scalars(
            sa.select(ProvisioningJob).where(ProvisioningJob.id.in_(ids[start:start + 500]))
            .execution_options(populate_existing=True)))
    sids = [job.twilio_sid for job in jobs.values() if job.twilio_sid]
    numbers = {number.sid: number.phone_number for number in db.session.scalars(
        sa.select(PhoneNumber).where(PhoneNumber.sid.in_(sids)))} if sids else {}
    for row in rows:
        job = jobs.get(row.job_id)
        if job is None:
            row.status, row.error = NOT_SUBMITTED, "the job is gone"
            continue
        row.status = str(job.state)
        row.phone_number = numbers.get(job.twilio_sid) or job.chosen_number \
            if job.state == JobState.COMPLETED else None
        row.error = (f"{job.error_code}: {job.error_message}" if job.state == JobState.FAILED
                     else None)
    db.session.rollback()


def summary(rows: Iterable[BulkRow]) -> dict[str, int]:
    """Counts by outcome: completed, failed, pending (submitted, not ended yet), skipped_invalid,
    duplicates, not_submitted; and how many jobs this run created."""
    counts = dict.fromkeys(("rows", "completed", "failed", "pending", "skipped_invalid",
                            "duplicates", "not_submitted", "created_now"), 0)
    for row in rows:
        counts["rows"] += 1
        counts["created_now"] += row.created
        if row.status == INVALID:
            counts["skipped_invalid"] += 1
        elif row.status == DUPLICATE:
            counts["duplicates"] += 1
        elif row.status == NOT_SUBMITTED:
            counts["not_submitted"] += 1
        elif row.status in (JobState.COMPLETED, JobState.FAILED):
            counts[str(row.status)] += 1
        else:
            counts["pending"] += 1
    return counts


def write_results(rows: Iterable[BulkRow], path: Path) -> None:
    """The results CSV, one line per row of the file; written whole or not at all."""
    partial = path.with_name(f".{path.name}.partial")
    with open(partial, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=RESULT_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({name: "" if value is None else value
                             for name, value in row.result().items()})
    os.replace(partial, path)
