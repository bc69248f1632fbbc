"""Inquiry tasks: thin wrappers around services."""

import time

from celery import shared_task
from django.db import OperationalError

from .models import RecomputeState
from .services.search_terms import search_terms_refresh
from .services.targets import recompute_claim, recompute_run

#: A recompute task hands the rest of a long job to a fresh task after this many seconds, well
#: inside CELERY_TASK_SOFT_TIME_LIMIT.
RECOMPUTE_TIME_BUDGET = 120.0


@shared_task(name="inquiries.tasks.refresh_search_terms", ignore_result=True, acks_late=True)
def refresh_search_terms() -> int:
    """Nightly: recount the search vocabulary (idempotent: an upsert of every word's count)."""
    return search_terms_refresh()


@shared_task(
    name="inquiries.tasks.recompute_targets",
    bind=True,
    ignore_result=True,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=8,
)
def recompute_targets(self, job_id: int) -> int:
    """Recompute the deadlines of one job's inquiries (after a policy, calendar or rule edit).
    Claims the job first: delivered twice, or raced by the sweep, it runs once."""
    if recompute_claim(job_id) is None:
        return 0
    job = recompute_run(job_id, time_budget=RECOMPUTE_TIME_BUDGET)
    if job.state == RecomputeState.PENDING:  # the budget ran out: a fresh task continues
        recompute_targets.delay(job_id)
    return job.done


@shared_task(name="inquiries.tasks.sweep_target_recomputes", ignore_result=True, acks_late=True)
def sweep_target_recomputes() -> int:
    """Every minute: run recompute jobs no worker took (the broker was down at the edit, or the
    worker died mid-job: its job resumes from the last finished batch)."""
    ran = 0
    deadline = time.monotonic() + RECOMPUTE_TIME_BUDGET
    while time.monotonic() < deadline and (job_id := recompute_claim()) is not None:
        recompute_run(job_id, time_budget=max(deadline - time.monotonic(), 1.0))
        ran += 1
    return ran


@shared_task(name="inquiries.tasks.sweep_reminders", ignore_result=True, acks_late=True)
def sweep_reminders() -> int:
    """Every minute: turn what the clock made due (target warnings, orders at risk, customers who
    heard nothing) into scheduled jobs; ``inquiries.services.reminders.sweep``."""
    from .services import reminders

    return reminders.sweep()
