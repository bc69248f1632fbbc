"""Scheduled-job handlers for the service tests (loaded by worker processes via FD_JOB_MODULES).

``jobkit.effect`` writes one effect row per run — an outbox row (``WebhookEvent``) whose ``ref``
names the job, with no unique constraint, so a job run twice shows as two rows. With
``payload={"hold": DIR}`` it then writes ``DIR/started-<job id>`` and waits (still inside the
job's transaction) until ``DIR/release`` exists: a test kills the worker there.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from fulfillment import scheduling
from fulfillment.models import Job, WebhookEvent, WebhookEventType

KIND = "jobkit.effect"
HOLD_LIMIT = 120.0  # seconds: a held handler gives up rather than outliving a failed test


def effect_ref(job_id: int) -> str:
    return f"jobkit:{job_id}"


@scheduling.handler(KIND, max_attempts=3)
def effect(job: Job) -> None:
    WebhookEvent.objects.create(
        event_id=uuid.uuid4(),
        type=WebhookEventType.ORDER_UPDATED,
        ref=effect_ref(job.pk),
        payload={"job": job.pk, "attempt": job.attempts},
    )
    hold = job.payload.get("hold")
    if hold:
        folder = Path(hold)
        (folder / f"started-{job.pk}").touch()
        deadline = time.monotonic() + HOLD_LIMIT
        while not (folder / "release").exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{folder / 'release'} did not appear")
            time.sleep(0.05)
