"""Escalation tasks: thin wrappers around services, idempotent.

- ``sweep_escalation_rules`` (beat, every minute): apply the automatic-escalation rules; a
  breach fires once however often it runs (``RuleFiring``'s unique key). It also asks again
  for the notices a worker never sent (the broker was down when the move was committed).
- ``notify_escalation`` / ``notify_firing``: one email to whoever must act; claimed by an atomic
  UPDATE of ``notified_at`` first (no lock is held while the mail goes out), released again if
  sending fails so the retry sends it.
"""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task
from django.db import OperationalError

from fulfillment import clock

from .services import apply_rules, auto, notify
from .services.notify import send_escalation_notice, send_firing_notice

log = logging.getLogger(__name__)


@shared_task(name="escalation.tasks.sweep_escalation_rules", ignore_result=True, acks_late=True)
def sweep_escalation_rules() -> int:
    fired = apply_rules()
    auto.close_resolved()
    escalations, firings = notify.unsent(now=clock.now())
    for pk in escalations:
        notify.enqueue_escalation_notice(pk)
    for pk in firings:
        notify.enqueue_firing_notice(pk)
    return len(fired)


@shared_task(
    name="escalation.tasks.notify_escalation",
    ignore_result=True,
    acks_late=True,
    autoretry_for=(OperationalError, smtplib.SMTPException, OSError),
    retry_backoff=True,
    max_retries=8,
)
def notify_escalation(escalation_id: int) -> int:
    return send_escalation_notice(escalation_id)


@shared_task(
    name="escalation.tasks.notify_firing",
    ignore_result=True,
    acks_late=True,
    autoretry_for=(OperationalError, smtplib.SMTPException, OSError),
    retry_backoff=True,
    max_retries=8,
)
def notify_firing(firing_id: int) -> int:
    return send_firing_notice(firing_id)
