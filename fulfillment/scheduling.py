"""Scheduled work: the database row is the schedule (ARCHITECTURE.md, "Scheduled work").

Any app asks for work to happen at a time with ``schedule()``, inside the transaction of the
business change that needs it, and registers what the work is with ``@handler("kind")``:

    @scheduling.handler("inquiries.follow_up_due", max_attempts=8)
    def follow_up_due(job: Job) -> None:
        ...

    scheduling.schedule(kind="inquiries.follow_up_due", key=f"follow-up:{call.pk}:due",
                        due_at=call.due_at, ref=f"inquiry:{inquiry.pk}", payload={"call": call.pk})

The life of a job:

1. ``scheduled`` — written with the business change (one transaction: both or neither). A job
   already due when it commits is handed to a worker on commit; the broker being down then
   loses nothing: the sweep hands it out later.
2. ``queued`` — claimed by ``claim_due`` (beat's ``sweep_jobs`` every few seconds, or the
   on-commit hand-out above) with ``SELECT … FOR UPDATE SKIP LOCKED``: two sweeps, or two beat
   processes running by mistake, never claim one row twice. ``claimed_at`` starts a lease; a
   job still queued when the lease ends (the message was lost, the worker was killed) is claimed
   again.
3. ``done`` — ``run_job`` locks the row, skips it unless it is still queued (a message delivered
   twice runs once), runs the handler and marks the row done in the same transaction: the
   handler's database writes and "done" commit together or not at all.
4. A handler that raises is retried with growing back-off (its own ``backoff``) until its
   ``max_attempts``, then ``failed``: logged with the job's id, listed on the operations page
   and by ``manage.py scheduled_work``, and retried by hand from there.

Effects outside the database (a mail, a webhook POST) happen inside the handler, before "done"
commits: a worker killed between the effect and the commit repeats the effect once the lease
ends. So mail and webhooks are at-least-once, and carry a key or an event id to de-duplicate.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Q

from . import clock
from .models import Job, JobState

log = logging.getLogger(__name__)

#: A queued job not finished within this time is handed out again.
LEASE = dt.timedelta(minutes=10)
#: How many jobs one claim takes, and how many ride in one worker task.
CLAIM_BATCH = 1000
TASK_CHUNK = 100
#: A batch of jobs commits after at most this much work (seconds); a task hands what it has not
#: reached to a new task after TASK_BUDGET (inside CELERY_TASK_SOFT_TIME_LIMIT).
COMMIT_SECONDS = 2.0
TASK_BUDGET = 120.0
#: Publishing a chunk: one immediate reconnect (a pooled connection Redis dropped), then give
#: up — the lease brings the jobs back. (``retry=False`` is slower: kombu then waits out its
#: connection retries, about 6 s with Redis down, in the request that made the change.)
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0, "interval_max": 0}


def default_backoff(attempt: int) -> dt.timedelta:
    """After the ``attempt``-th failure: 30 s, 1 min, 2 min, 4 min … at most an hour."""
    return dt.timedelta(seconds=min(30 * 2 ** (attempt - 1), 3600))


@dataclass(frozen=True)
class Retry:
    """Returned by a handler: "this try failed, keep what I wrote (e.g. a delivery log row) and
    try again later" — counted as a failed attempt, with back-off and the limit."""

    error: str


@dataclass(frozen=True)
class Handler:
    kind: str
    run: Callable[[Job], object]
    max_attempts: int
    backoff: Callable[[int], dt.timedelta]
    #: Called in the job's transaction when it fails for good (e.g. mark a delivery failed).
    on_failed: Callable[[Job], object] | None = None


_handlers: dict[str, Handler] = {}


def handler(
    kind: str,
    *,
    max_attempts: int = 8,
    backoff: Callable[[int], dt.timedelta] = default_backoff,
    on_failed: Callable[[Job], object] | None = None,
):
    """Register the function that does the work of jobs of ``kind`` (once per kind).

    The function gets the locked ``Job`` inside the transaction that will mark it done. It may
    raise (its writes are undone, the try counts as failed) or return ``Retry("why")`` (its
    writes are kept, the try counts as failed)."""

    def register(func: Callable[[Job], object]) -> Callable[[Job], object]:
        existing = _handlers.get(kind)
        if existing is not None and existing.run.__qualname__ != func.__qualname__:
            raise RuntimeError(f"a handler for {kind!r} is already registered")
        _handlers[kind] = Handler(kind, func, max_attempts, backoff, on_failed)
        return func

    return register


def handlers() -> dict[str, Handler]:
    return dict(_handlers)


# --- asking for work -------------------------------------------------------------------------


def schedule(
    *, kind: str, key: str, due_at: dt.datetime, ref: str = "", payload: dict | None = None, replace: bool = False
) -> Job:
    """Ask for ``kind`` work at ``due_at``; call inside the business change's transaction.

    The same ``key`` again returns the existing job unchanged, unless ``replace`` and it has not
    run yet: then it is moved to the new time and payload (a rescheduled follow-up call).
    """
    now = clock.now()
    job, created = Job.objects.get_or_create(
        key=key[:200],
        defaults={
            "kind": kind,
            "due_at": due_at,
            "ref": ref[:100],
            "payload": payload or {},
            "created_at": now,
            "updated_at": now,
        },
    )
    if not created and replace and job.state in (JobState.SCHEDULED, JobState.CANCELLED):
        job.due_at, job.payload, job.state, job.updated_at = due_at, payload or {}, JobState.SCHEDULED, now
        job.attempts, job.last_error = 0, ""
        job.save(update_fields=["due_at", "payload", "state", "updated_at", "attempts", "last_error"])
    if job.state == JobState.SCHEDULED and job.due_at <= now:
        hand_out_on_commit([job.pk])
    return job


def cancel(*, keys: Iterable[str] = (), ref: str = "", kind: str = "") -> int:
    """Cancel jobs that have not run: by key, or every one of ``kind`` about ``ref``."""
    rows = Job.objects.filter(state=JobState.SCHEDULED)
    keys = list(keys)
    if keys:
        rows = rows.filter(key__in=keys)
    elif ref and kind:
        rows = rows.filter(ref=ref, kind=kind)
    else:
        raise ValueError("cancel() needs keys, or ref and kind")
    return rows.update(state=JobState.CANCELLED, updated_at=clock.now())


# --- handing work out ------------------------------------------------------------------------


def _due(now: dt.datetime) -> Q:
    return Q(state=JobState.SCHEDULED, due_at__lte=now)


def _lease_ended(now: dt.datetime) -> Q:
    return Q(state=JobState.QUEUED, claimed_at__lte=now - LEASE)


def claim_due(
    *, now: dt.datetime | None = None, limit: int | None = None, ids: Iterable[int] | None = None
) -> list[int]:
    """Claim up to ``limit`` due jobs (and queued ones whose lease ended), oldest first: mark them
    queued and return their ids. Rows another transaction holds are skipped, not waited for.
    ``ids``: claim only these (the on-commit hand-out of jobs already due)."""
    now = now or clock.now()
    limit = limit or CLAIM_BATCH
    with transaction.atomic():
        if ids is not None:
            claimed = list(
                Job.objects.filter(pk__in=list(ids))
                .filter(_due(now))
                .select_for_update(skip_locked=True)
                .values_list("id", flat=True)
            )
        else:
            # two index range scans (job_due, job_leased), never a scan of the table
            claimed = list(
                Job.objects.filter(_due(now))
                .order_by("due_at", "id")
                .select_for_update(skip_locked=True)
                .values_list("id", flat=True)[:limit]
            )
            if len(claimed) < limit:
                claimed += list(
                    Job.objects.filter(_lease_ended(now))
                    .order_by("claimed_at", "id")
                    .select_for_update(skip_locked=True)
                    .values_list("id", flat=True)[: limit - len(claimed)]
                )
        if claimed:
            Job.objects.filter(pk__in=claimed).update(state=JobState.QUEUED, claimed_at=now, updated_at=now)
    return claimed


def enqueue(ids: list[int]) -> bool:
    """Send claimed jobs to the workers in chunks. False when the broker refused: the jobs stay
    queued and the sweep hands them out again when their lease ends; nothing is lost."""
    from .tasks import run_jobs

    try:
        for start in range(0, len(ids), TASK_CHUNK):
            run_jobs.apply_async((ids[start : start + TASK_CHUNK],), retry=True, retry_policy=PUBLISH_RETRY)
    except Exception as exc:  # the broker is down: the lease brings them back
        # one line, not a traceback: with the broker down every hand-out fails the same way
        log.warning("could not hand scheduled jobs %s to the broker (%r); the sweep retries them", ids[:20], exc)
        return False
    return True


def hand_out_on_commit(ids: list[int]) -> None:
    """After the current transaction commits, claim these (if still due) and send them out."""

    def send() -> None:
        try:
            claimed = claim_due(ids=ids)
        except Exception:
            log.warning("could not claim jobs %s on commit; the sweep will", ids, exc_info=True)
            return
        if claimed:
            enqueue(claimed)

    transaction.on_commit(send)


def sweep(*, now: dt.datetime | None = None, max_batches: int = 100) -> int:
    """Claim every due job (in batches) and hand each batch to the workers. Returns how many."""
    total = 0
    for _ in range(max_batches):
        claimed = claim_due(now=now)
        if not claimed:
            break
        enqueue(claimed)
        total += len(claimed)
        if len(claimed) < CLAIM_BATCH:
            break
    return total


# --- doing the work --------------------------------------------------------------------------


def _run_one(job: Job) -> str:
    """Run one locked, queued job inside the caller's transaction. On success the row is left for
    the caller to mark done with the rest of its batch (one UPDATE); a failure is saved here.
    Returns "done", or the state after the failure."""
    spec = _handlers.get(job.kind)
    now = clock.now()
    error = ""
    try:
        if spec is None:
            raise LookupError(f"no handler is registered for {job.kind!r}")
        with transaction.atomic():  # a savepoint: a failing handler's writes are undone
            result = spec.run(job)
        if isinstance(result, Retry):
            error = result.error
            log.warning(
                "scheduled job %s (%s, %s) try %d failed: %s", job.pk, job.kind, job.ref, job.attempts + 1, error
            )
    except Exception as exc:
        log.exception("scheduled job %s (%s, %s) failed, attempt %d", job.pk, job.kind, job.ref, job.attempts + 1)
        error = f"{type(exc).__name__}: {exc}"
    if not error:
        return JobState.DONE
    job.attempts += 1
    job.updated_at = now
    job.last_error = error[:2000]
    job.claimed_at = None
    if spec is None or job.attempts >= spec.max_attempts:
        job.state = JobState.FAILED
        if spec is not None and spec.on_failed is not None:
            with transaction.atomic():
                spec.on_failed(job)
    else:
        job.state = JobState.SCHEDULED
        job.due_at = now + spec.backoff(job.attempts)
    job.save(update_fields=["state", "attempts", "updated_at", "last_error", "due_at", "claimed_at"])
    return job.state


def _run_batch(ids: list[int], counts: dict[str, int], *, until: float) -> list[int]:
    """Run the queued jobs among ``ids`` in ONE transaction (one commit for the batch, not one
    per job): lock them all in one query (in id order, so two workers never deadlock), run each
    in a savepoint, mark the successful ones done in one UPDATE. Stops starting new jobs at
    ``until`` (monotonic seconds) and returns the ids it did not reach."""
    with transaction.atomic():
        jobs = {
            job.pk: job
            for job in Job.objects.select_for_update().filter(pk__in=ids, state=JobState.QUEUED).order_by("pk")
        }
        done: list[int] = []
        rest: list[int] = []
        for index, pk in enumerate(ids):
            job = jobs.get(pk)
            if job is None:  # done already (delivered twice), cancelled, or never claimed
                counts["skipped"] = counts.get("skipped", 0) + 1
                continue
            if (done or len(counts) > 1) and time.monotonic() > until:
                rest = [pk for pk in ids[index:] if pk in jobs]
                break
            outcome = _run_one(job)
            counts[outcome] = counts.get(outcome, 0) + 1
            if outcome == JobState.DONE:
                done.append(pk)
        if done:
            now = clock.now()
            Job.objects.filter(pk__in=done).update(
                state=JobState.DONE, done_at=now, updated_at=now, attempts=F("attempts") + 1, last_error=""
            )
    return rest


def run_jobs(ids: Iterable[int], *, budget: float | None = None) -> dict[str, int]:
    """Run a chunk of claimed jobs, each exactly once; returns counts by outcome.

    Jobs commit in batches (at most ``COMMIT_SECONDS`` of work each), so a slow handler does
    not hold the others' locks for long and a killed worker loses at most one batch (the lease
    brings it back). After ``budget`` seconds (TASK_BUDGET) the rest is handed to a new task,
    well inside the task time limit."""
    ids = list(dict.fromkeys(ids))  # the same id twice in one chunk runs once
    counts: dict[str, int] = {}
    deadline = time.monotonic() + (TASK_BUDGET if budget is None else budget)
    while ids:
        if counts and time.monotonic() > deadline:
            enqueue(ids)
            counts["handed_on"] = len(ids)
            break
        ids = _run_batch(ids, counts, until=time.monotonic() + COMMIT_SECONDS)
    return counts


def run_job(job_id: int) -> str:
    """Run one queued job exactly once; returns its state afterwards ("skipped" when it was not
    queued: done already, cancelled, or never claimed)."""
    counts = run_jobs([job_id])
    return next(iter(counts))


def retry(*, job: Job) -> Job:
    """Run a failed (or cancelled) job again now: a person asked for it from the operations page."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.state in (JobState.FAILED, JobState.CANCELLED):
            now = clock.now()
            job.state, job.due_at, job.attempts, job.updated_at, job.claimed_at = JobState.SCHEDULED, now, 0, now, None
            job.save(update_fields=["state", "due_at", "attempts", "updated_at", "claimed_at"])
            hand_out_on_commit([job.pk])
    return job


def overdue_after() -> dt.timedelta:
    """A scheduled job due longer ago than this is overdue (the sweep runs every few seconds)."""
    return dt.timedelta(minutes=5)


def purge(*, now: dt.datetime | None = None, keep_days: int | None = None, batch: int = 10_000) -> int:
    """Delete done and cancelled jobs finished more than ``keep_days`` ago (FD_JOB_RETENTION_DAYS,
    default 30), in batches; failed jobs stay until a person deals with them. Returns how many.

    A job's key remembers "this was done" only while the row lives: after the retention a
    producer sweep could ask again for a case still true that long (a target still at risk after
    30 days gets a second warning) — deliberate; no business row depends on a job row."""
    from django.conf import settings

    now = now or clock.now()
    keep_days = settings.FD_JOB_RETENTION_DAYS if keep_days is None else keep_days
    cutoff = now - dt.timedelta(days=keep_days)
    finished = (
        Q(state=JobState.DONE, done_at__lt=cutoff),  # index job_done
        Q(state=JobState.CANCELLED, updated_at__lt=cutoff),
    )
    deleted = 0
    for condition in finished:
        while True:
            ids = list(Job.objects.filter(condition).values_list("id", flat=True)[:batch])
            if not ids:
                break
            deleted += Job.objects.filter(pk__in=ids).delete()[0]
    return deleted
