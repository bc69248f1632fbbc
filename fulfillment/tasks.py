"""Kernel tasks."""

from celery import shared_task
from django.db import OperationalError

from . import clock
from .models import Heartbeat


@shared_task(name="fulfillment.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Beat → worker → database: proves the scheduling chain works end to end."""
    Heartbeat.objects.update_or_create(name="beat", defaults={"at": clock.now()})


@shared_task(name="fulfillment.tasks.purge_idempotency_records", ignore_result=True)
def purge_idempotency_records() -> int:
    """Forget Idempotency-Key responses older than FD_IDEMPOTENCY_HOURS (idempotent by nature)."""
    import datetime as dt

    from django.conf import settings

    from .models import IdempotencyRecord

    cutoff = clock.now() - dt.timedelta(hours=settings.FD_IDEMPOTENCY_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


@shared_task(
    name="fulfillment.tasks.run_jobs",
    ignore_result=True,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=8,
)
def run_jobs(job_ids: list[int]) -> dict[str, int]:
    """Run a chunk of claimed scheduled jobs; each runs once however often this is delivered."""
    from . import scheduling

    return scheduling.run_jobs(job_ids)


@shared_task(name="fulfillment.tasks.sweep_jobs", ignore_result=True, acks_late=True)
def sweep_jobs() -> int:
    """Beat, every few seconds: hand every due scheduled job to the workers."""
    from . import scheduling

    return scheduling.sweep()


@shared_task(name="fulfillment.tasks.purge_finished_jobs", ignore_result=True, acks_late=True)
def purge_finished_jobs() -> int:
    """Hourly: forget done and cancelled scheduled jobs past FD_JOB_RETENTION_DAYS (idempotent)."""
    from . import scheduling

    return scheduling.purge()
