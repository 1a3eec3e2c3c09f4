"""Operator CLI fixtures: the provisioning ones, a runner, and numbers provisioned to the end."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import Result
from flask import Flask

from ringly.db import db
from ringly.provisioning import saga
from ringly.provisioning.models import ProvisioningJob
from tests.provisioning.conftest import make_job, prov  # noqa: F401


class Cli:
    """`flask …` in this process, as an operator runs it (no terminal on stdin)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def __call__(self, *args: str, input: str | None = None) -> Result:
        result = self.app.test_cli_runner().invoke(args=list(args), input=input)
        db.session.remove()  # the command's session ended; read afresh
        return result

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def cli(prov: Flask) -> Cli:  # noqa: F811 - the fixture imported above
    return Cli(prov)


def assert_one_line_error(result: Result, *fragments: str, progress: bool = False) -> str:
    """Exit code 1, the error as one line on stderr starting `Error: ` (after the command's
    progress lines, if it has any: `progress`), no traceback, and what it names."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("Error: "), result.stderr
    assert len(lines) == 1 or progress, result.stderr
    assert [line for line in lines if line.startswith("Error")] == lines[-1:], result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[-1], lines[-1]
    return lines[-1]


@dataclass(frozen=True)
class Provisioned:
    id: str  # the job's
    client_id: int
    twilio_sid: str
    phone_number: str


def provisioned(area_code: str = "415", name: str = "Bella Salon") -> Provisioned:
    """A client whose job ran to the end against the sandbox (the voice URL check skipped)."""
    job_id = make_job({"business_name": name, "email": f"{name.split()[0].lower()}@example.com",
                       "areaCode": area_code}).id
    assert saga.advance(job_id, verifier=lambda _url, _number: None) == "completed"
    db.session.remove()
    job = db.session.get(ProvisioningJob, job_id)
    done = Provisioned(job.id, job.client_id, job.twilio_sid, job.chosen_number)
    db.session.remove()
    return done
