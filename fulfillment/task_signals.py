"""Celery signal receivers (connected when the kernel app is ready): every task failure and retry is
logged with the task's id and arguments (the item ids), and each beat task's last start, success
and failure is recorded for the operations and admin pages (``ops.record_beat_run``).

Logging only — no control flow hangs off these: a receiver that cannot write its record logs that
and lets the task's own outcome stand.
"""

from __future__ import annotations

import logging

from celery.signals import task_failure, task_prerun, task_retry, task_success

from . import ops

log = logging.getLogger("fulfillment.tasks")


def _task_name(sender) -> str:
    return getattr(sender, "name", "") or str(sender)


def _record(task: str, what: str, error: str = "") -> None:
    if task not in ops.beat_tasks():
        return
    try:
        ops.record_beat_run(task=task, what=what, error=error)
    except Exception:  # the database is down: the task's own result and log say what happened
        log.warning("could not record that beat task %s %s", task, what, exc_info=True)


@task_prerun.connect(dispatch_uid="fulfillment.ops.prerun")
def on_prerun(sender=None, task_id=None, **kwargs) -> None:
    _record(_task_name(sender), ops.RAN)


@task_success.connect(dispatch_uid="fulfillment.ops.success")
def on_success(sender=None, **kwargs) -> None:
    _record(_task_name(sender), ops.OK)


@task_failure.connect(dispatch_uid="fulfillment.ops.failure")
def on_failure(sender=None, task_id=None, exception=None, args=None, kwargs=None, **extra) -> None:
    """A task failed for good (its retries, if any, are used up)."""
    name = _task_name(sender)
    error = f"{type(exception).__name__}: {exception}" if exception is not None else "unknown error"
    log.error("task %s [%s] failed with args=%r kwargs=%r: %s", name, task_id, args, kwargs, error)
    _record(name, ops.FAILED_RUN, error)


@task_retry.connect(dispatch_uid="fulfillment.ops.retry")
def on_retry(sender=None, request=None, reason=None, **extra) -> None:
    """A task will be retried with back-off (``autoretry_for`` / ``retry_backoff``)."""
    log.warning(
        "task %s [%s] will be retried, args=%r kwargs=%r: %s",
        _task_name(sender),
        getattr(request, "id", None),
        getattr(request, "args", None),
        getattr(request, "kwargs", None),
        reason,
    )
