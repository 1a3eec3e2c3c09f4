"""No retry waits past the broker's visibility timeout, however long Twilio's Retry-After."""
from __future__ import annotations

import pytest

from ringly.messaging import outbound
from ringly.queue import MAX_RETRY_DELAY, REDIS_VISIBILITY_TIMEOUT
from tests.messaging.test_outbound import _queue_confirmation

A_DAY = 86400


def test_a_capped_retry_and_its_run_end_inside_the_visibility_timeout(app):
    # The countdown is spent unacknowledged, then the task runs up to its hard time limit
    # before the late ack; messaging adds up to 20 % jitter to its countdown.
    time_limit = app.extensions["celery"].conf.task_time_limit
    assert MAX_RETRY_DELAY * 1.2 + time_limit < REDIS_VISIBILITY_TIMEOUT


def test_a_day_long_retry_after_on_a_text_is_retried_within_the_cap(app, sandbox):
    message_id = _queue_confirmation(app)
    sandbox.set_faults(rate_429=1.0, only=["message"], retry_after_s=A_DAY)
    with app.app_context(), pytest.raises(outbound.SendLater) as later:
        outbound.send_message(message_id)
    assert 0 < later.value.delay <= MAX_RETRY_DELAY
