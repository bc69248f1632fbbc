"""Reminder jobs (docs/reminders.md): each handler reads its job's payload and calls the service in
``inquiries.services.reminders``, which re-reads the thing it is about and does nothing when
there is nothing left to do. The job's key is the notices' key: a retried job tells nobody twice."""

from __future__ import annotations

from fulfillment import scheduling
from fulfillment.models import Job

from ..services import reminders


@scheduling.handler(reminders.CALLBACK_REMINDER_JOB)
def callback_reminder(job: Job) -> None:
    reminders.remind_callback(callback_id=job.payload["callback"], key=job.key)


@scheduling.handler(reminders.EXPEDITE_REMINDER_JOB)
def expedite_reminder(job: Job) -> None:
    payload = job.payload
    reminders.remind_expedite(
        order_id=payload["order"],
        n=payload["n"],
        requested_at=payload.get("requested_at", ""),
        start=payload.get("start", False),
        key=job.key,
    )


@scheduling.handler(reminders.ORDER_AT_RISK_JOB)
def order_at_risk(job: Job) -> None:
    reminders.order_at_risk(order_id=job.payload["order"], reason=job.payload["reason"], key=job.key)


@scheduling.handler(reminders.QUIET_UPDATE_JOB)
def quiet_update(job: Job) -> None:
    reminders.quiet_update(inquiry_id=job.payload["inquiry"], since=job.payload["since"], key=job.key)


@scheduling.handler(reminders.TARGET_WARNING_JOB)
def target_warning(job: Job) -> None:
    payload = job.payload
    reminders.target_warning(
        inquiry_id=payload["inquiry"], due_kind=payload["due_kind"], due_at=payload["due_at"], key=job.key
    )
