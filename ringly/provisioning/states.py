"""A provisioning job's states and steps, and the moves the saga may make between them."""
from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa


class JobState(StrEnum):
    """Where a job is; stored (and answered as `status`) as these exact strings."""

    QUEUED = "queued"
    SEARCHING = "searching"
    PURCHASING = "purchasing"
    CONFIGURING = "configuring"
    VERIFYING = "verifying"
    COMPLETED = "completed"
    FAILED = "failed"


class JobStep(StrEnum):
    """What a job does next within its state (answered as `step`; none once it ended)."""

    QUEUED = "queued"
    SELECT_NUMBER = "select_number"
    PURCHASE_NUMBER = "purchase_number"
    CHECK_CONFIGURATION = "check_configuration"
    # Within `configuring`, after the webhooks, when TWILIO_MESSAGING_SERVICE_SID is set.
    ADD_TO_MESSAGING_SERVICE = "add_to_messaging_service"
    VERIFY_VOICE_URL = "verify_voice_url"


# A tuple, not a set: SQL built from it (`state NOT IN (…)`) keeps one order, so one cache key.
TERMINAL_JOB_STATES: tuple[JobState, ...] = (JobState.COMPLETED, JobState.FAILED)

STEP_ON_ENTRY: dict[JobState, JobStep | None] = {
    JobState.QUEUED: JobStep.QUEUED,
    JobState.SEARCHING: JobStep.SELECT_NUMBER,
    JobState.PURCHASING: JobStep.PURCHASE_NUMBER,
    JobState.CONFIGURING: JobStep.CHECK_CONFIGURATION,
    JobState.VERIFYING: JobStep.VERIFY_VOICE_URL,
    JobState.COMPLETED: None,
    JobState.FAILED: None,
}

# Every state can fail; nothing leaves a terminal state, so a completed job (and the live
# number it holds) can never be failed afterwards by a caller holding an old copy of it.
NEXT_STATES: dict[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset({JobState.SEARCHING, JobState.FAILED}),
    # Searching again after a candidate was taken (21422), or after a retry.
    JobState.SEARCHING: frozenset({JobState.SEARCHING, JobState.PURCHASING, JobState.FAILED}),
    JobState.PURCHASING: frozenset({JobState.SEARCHING, JobState.CONFIGURING,
                                    JobState.VERIFYING, JobState.FAILED}),
    # Configuring again: on to its second step, adding the number to the Messaging Service.
    JobState.CONFIGURING: frozenset({JobState.CONFIGURING, JobState.VERIFYING, JobState.FAILED}),
    JobState.VERIFYING: frozenset({JobState.COMPLETED, JobState.FAILED}),
    JobState.COMPLETED: frozenset(),
    JobState.FAILED: frozenset(),
}


class IllegalTransition(ValueError):
    """A job was asked to move where the saga never goes (e.g. out of `completed`)."""


def check_transition(current: JobState, target: JobState) -> None:
    if target not in NEXT_STATES[current]:
        raise IllegalTransition(f"a {current} job cannot become {target}")


class EnumString(sa.types.TypeDecorator):
    """A StrEnum kept in a plain VARCHAR: written as its value, read back as the member.

    An unknown value is refused before it reaches the database."""

    impl = sa.String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: str | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> StrEnum | None:
        return None if value is None else self.enum(value)
