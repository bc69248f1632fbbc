from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def sweep_surveys() -> int:
    """Beat, every minute: schedule the survey of each recent resolution (idempotent: a cycle's
    job is keyed)."""
    return services.survey_schedule_due()
