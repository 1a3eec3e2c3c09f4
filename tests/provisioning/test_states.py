"""A job's states and steps: one enum, one transition method, the stored strings unchanged."""
from __future__ import annotations

import ast
import pathlib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from ringly.db import db
from ringly.provisioning.models import ProvisioningJob
from ringly.provisioning.schemas import JobSchema
from ringly.provisioning.states import (
    TERMINAL_JOB_STATES,
    IllegalTransition,
    JobState,
    JobStep,
)
from tests.provisioning.conftest import make_job

PROVISIONING = pathlib.Path(__file__).parents[2] / "ringly" / "provisioning"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_stored_strings_are_the_ones_the_table_and_the_api_already_use():
    assert [state.value for state in JobState] == [
        "queued", "searching", "purchasing", "configuring", "verifying", "completed", "failed"]
    assert [step.value for step in JobStep] == [
        "queued", "select_number", "purchase_number", "check_configuration",
        "add_to_messaging_service", "verify_voice_url"]
    assert TERMINAL_JOB_STATES == (JobState.COMPLETED, JobState.FAILED)
    [check] = [c for c in ProvisioningJob.__table__.constraints
               if isinstance(c, sa.CheckConstraint)]
    assert str(check.sqltext) == ("state IN ('queued', 'searching', 'purchasing', "
                                  "'configuring', 'verifying', 'completed', 'failed')")
    assert JobSchema().fields["status"].metadata["enum"] == [state.value for state in JobState]


def test_move_to_sets_state_step_and_timestamps_together():
    job = ProvisioningJob(state=JobState.QUEUED, step=JobStep.QUEUED)
    job.move_to(JobState.SEARCHING, now=T0)
    assert (job.state, job.step, job.started_at, job.finished_at, job.updated_at) == (
        JobState.SEARCHING, JobStep.SELECT_NUMBER, T0, None, T0)
    later = T0 + timedelta(minutes=1)
    job.next_attempt_at = later
    job.move_to(JobState.PURCHASING, now=later)
    assert (job.step, job.started_at, job.updated_at) == (JobStep.PURCHASE_NUMBER, T0, later)
    job.move_to(JobState.VERIFYING, now=later)
    end = T0 + timedelta(minutes=2)
    job.move_to(JobState.COMPLETED, now=end)
    assert (job.state, job.step, job.finished_at, job.next_attempt_at) == (
        JobState.COMPLETED, None, end, None)
    assert job.started_at == T0  # work started once


@pytest.mark.parametrize("ended", [JobState.COMPLETED, JobState.FAILED])
@pytest.mark.parametrize("target", list(JobState))
def test_an_ended_job_never_moves_again(ended, target):
    job = ProvisioningJob(state=ended, finished_at=T0)
    with pytest.raises(IllegalTransition):
        job.move_to(target)
    assert (job.state, job.finished_at) == (ended, T0)


def test_every_running_state_can_fail():
    for state in JobState:
        if state not in TERMINAL_JOB_STATES:
            job = ProvisioningJob(state=state)
            job.move_to(JobState.FAILED, now=T0)
            assert (job.state, job.step, job.finished_at) == (JobState.FAILED, None, T0)


def test_a_stored_job_reads_back_as_enum_members(prov):
    job_id = make_job({"business_name": "A", "email": "a@example.com"}).id
    db.session.remove()
    job = db.session.get(ProvisioningJob, job_id)
    assert job.state is JobState.QUEUED and job.step is JobStep.QUEUED
    stored = db.session.execute(sa.text("SELECT state, step FROM provisioning_jobs")).one()
    assert tuple(stored) == ("queued", "queued")


def test_an_unknown_state_is_refused_before_it_reaches_the_database(prov):
    job = make_job({"business_name": "A", "email": "a@example.com"})
    job.state = "bought"
    with pytest.raises(sa.exc.StatementError):
        db.session.commit()
    db.session.rollback()


def _bare_state_strings(path: pathlib.Path) -> list[str]:
    """`x.state == "…"`, `x.state = "…"`, `state="…"` and the like with a literal state/step."""
    names = {member.value for member in (*JobState, *JobStep)}
    found = []

    def literal(node: ast.AST) -> bool:
        if isinstance(node, ast.Constant) and node.value in names:
            return True
        return isinstance(node, ast.Tuple | ast.List | ast.Set) and any(map(literal, node.elts))

    def state_attr(node: ast.AST) -> bool:
        return isinstance(node, ast.Attribute) and node.attr in ("state", "step")

    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare) and (
                state_attr(node.left) or any(map(state_attr, node.comparators))):
            bad = [literal(side) for side in (node.left, *node.comparators)]
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            flat = [t for target in targets
                    for t in (target.elts if isinstance(target, ast.Tuple) else [target])]
            bad = [any(map(state_attr, flat)) and node.value is not None and literal(node.value)]
        elif isinstance(node, ast.keyword):
            bad = [node.arg in ("state", "step") and literal(node.value)]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("in_", "not_in") and state_attr(node.func.value):
            bad = [any(map(literal, node.args))]
        else:
            continue
        if any(bad):
            found.append(f"{path.name}:{node.lineno}")
    return found


def test_no_bare_state_or_step_strings_in_the_provisioning_package():
    offenders = [spot for path in sorted(PROVISIONING.glob("*.py")) if path.name != "states.py"
                 for spot in _bare_state_strings(path)]
    assert offenders == []
