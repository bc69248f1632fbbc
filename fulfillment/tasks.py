"""Kernel tasks."""

from celery import shared_task

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
