"""Kernel tasks."""

from celery import shared_task

from . import clock
from .models import Heartbeat


@shared_task(name="fulfillment.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Beat → worker → database: proves the scheduling chain works end to end."""
    Heartbeat.objects.update_or_create(name="beat", defaults={"at": clock.now()})
