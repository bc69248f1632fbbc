"""The scheduled-work guarantees (issue 7) against real PostgreSQL, real Redis and real Celery
worker and beat processes: a Redis outage, a worker killed mid-task, a task delivered twice,
two beat processes, and no task against uncommitted data.

The jobs are ``jobkit.effect`` (tests/services/jobkit.py, loaded by the workers through
FD_JOB_MODULES): one outbox row per run, so "exactly once" is "one row per job"; the Redis
outage is also shown with the real thing, resolving an inquiry (its follow-up call). Times the
engine compares (due, lease) are injected ``now`` values; the tests wait only for processes.
"""

from __future__ import annotations

import ast
import datetime as dt
import os
import re
import signal
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, connections, transaction
from django.db.models import Count

from fulfillment import clock, scheduling
from fulfillment.models import Job, JobState, Notification, WebhookEvent
from fulfillment.tasks import run_jobs, sweep_jobs
from fulfillment.tiers import Tier
from inquiries import services as inquiry_services
from inquiries.enums import EventType, FollowUpState, InquiryStatus
from inquiries.models import FollowUpCall, FollowUpDelay, Inquiry, InquiryEvent
from inquiries.services import followups
from tests.conftest import require_service
from tests.factories import UserFactory
from tests.inquiries.factories import InquiryFactory

from . import jobkit
from .conftest import celery_beat, celery_worker, private_queue, redis_server, tail, use_broker, wait_until

pytestmark = pytest.mark.services

JOBKIT = {"FD_JOB_MODULES": "tests.services.jobkit"}
SUCCEEDED = re.compile(r"Task (?P<task>[\w.]+)\[[\w-]+\] succeeded in [\d.e-]+s: (?P<value>.*)$", re.MULTILINE)


@pytest.fixture
def services(transactional_db, redis_url):
    """Worker processes see only committed rows: a transactional test on PostgreSQL."""
    require_service(connection.vendor == "postgresql", "needs PostgreSQL: set DATABASE_URL=postgres://…")
    return redis_url


def effects(job_id: int) -> int:
    return WebhookEvent.objects.filter(ref=jobkit.effect_ref(job_id)).count()


def results(log: Path, task: str) -> list:
    """The return values the worker logged for ``task`` ("Task … succeeded in …s: VALUE")."""
    text = log.read_text(errors="replace")
    return [ast.literal_eval(m["value"]) for m in SUCCEEDED.finditer(text) if m["task"] == task]


def schedule_due(key: str, **payload) -> Job:
    """A job due now, in a transaction of its own: handed to the worker when it commits."""
    with transaction.atomic():
        return scheduling.schedule(kind=jobkit.KIND, key=key, due_at=clock.now(), ref=f"test:{key}", payload=payload)


def wait_done(job_ids, *, log: Path, worker, timeout: float = 60) -> None:
    job_ids = list(job_ids)
    wait_until(
        lambda: Job.objects.filter(pk__in=job_ids, state=JobState.DONE).count() == len(job_ids),
        timeout=timeout,
        what=f"{len(job_ids)} job(s) to be done",
        log=log,
        process=worker,
    )


def _schedule_with_redis_down(broker, change):
    """Stop the broker this process sends to, run ``change`` in a transaction; the commit (and
    its on-commit hand-out) must not wait for the broker. Returns what ``change`` returned."""
    broker.stop()
    started = time.monotonic()
    with transaction.atomic():
        result = change()
    took = time.monotonic() - started
    assert took < 5, f"the commit waited {took:.1f} s for the broker"
    return result


def _run_once_redis_is_back(broker, job: Job, *, tmp_path, monkeypatch, env=None) -> Path:
    """Start the broker again and a worker; the sweep hands the job out; wait until it is done."""
    job.refresh_from_db()
    assert job.state in (JobState.SCHEDULED, JobState.QUEUED)  # the row is the schedule: not lost
    broker.start()
    with celery_worker(redis_url=broker.url, tmp_path=tmp_path, monkeypatch=monkeypatch, env=env) as (worker, log):
        # a job left queued comes back when its lease ends; a scheduled one at once
        later = (job.claimed_at or job.due_at) + scheduling.LEASE
        assert scheduling.sweep(now=later) == 1
        wait_done([job.pk], log=log, worker=worker)
        assert scheduling.sweep(now=later) == 0
    job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.DONE, 1)
    return log


def test_redis_down_when_work_is_scheduled_the_change_commits_and_the_job_runs_once_redis_is_back(
    services, monkeypatch, tmp_path
):
    with redis_server(tmp_path) as broker:
        use_broker(broker.url, monkeypatch)
        job = _schedule_with_redis_down(
            broker,
            lambda: scheduling.schedule(kind=jobkit.KIND, key="redis-down", due_at=clock.now(), ref="test:redis-down"),
        )
        assert effects(job.pk) == 0
        _run_once_redis_is_back(broker, job, tmp_path=tmp_path, monkeypatch=monkeypatch, env=JOBKIT)
    assert effects(job.pk) == 1


def test_redis_down_when_an_inquiry_is_resolved_its_follow_up_call_comes_due_once_redis_is_back(
    services, monkeypatch, tmp_path
):
    """The real thing: resolving schedules the follow-up call (a zero-minute delay: due at once)."""
    FollowUpDelay.objects.update(delay_minutes=0)
    rep = UserFactory(username="rep-followup", tier=Tier.REP)
    inquiry = InquiryFactory(assignee=rep)
    with redis_server(tmp_path) as broker:
        use_broker(broker.url, monkeypatch)
        _schedule_with_redis_down(
            broker,
            lambda: inquiry_services.inquiry_set_status(actor=rep, inquiry=inquiry, status=InquiryStatus.RESOLVED),
        )
        assert Inquiry.objects.get(pk=inquiry.pk).status == InquiryStatus.RESOLVED  # the change committed
        call = FollowUpCall.objects.get(inquiry=inquiry)
        assert call.state == FollowUpState.SCHEDULED
        job = Job.objects.get(kind=followups.DUE_KIND, payload__call=call.pk)
        _run_once_redis_is_back(broker, job, tmp_path=tmp_path, monkeypatch=monkeypatch)
    call.refresh_from_db()
    assert call.state == FollowUpState.DUE
    assert InquiryEvent.objects.filter(inquiry=inquiry, type=EventType.FOLLOW_UP_DUE).count() == 1
    assert list(Notification.objects.filter(recipient=rep).values_list("key", flat=True)) == [f"follow-up:{call.pk}:0"]


def test_a_worker_killed_inside_a_job_leaves_nothing_and_the_job_is_done_once_after_restart(
    services, monkeypatch, tmp_path
):
    hold = tmp_path / "hold"
    hold.mkdir()
    queue = private_queue(monkeypatch)
    with celery_worker(
        redis_url=services, tmp_path=tmp_path, monkeypatch=monkeypatch, queue=queue, name="killed", env=JOBKIT
    ) as (worker, log):
        job = schedule_due("killed", hold=str(hold))  # handed out on commit
        wait_until(
            lambda: (hold / f"started-{job.pk}").exists(),
            timeout=60,
            what="the worker to be inside the job's transaction",
            log=log,
            process=worker,
        )
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)

    # the killed transaction wrote its effect row, and PostgreSQL undid it with the connection
    def row_lock_free() -> bool:
        with transaction.atomic():
            return Job.objects.select_for_update(nowait=True).filter(pk=job.pk).exists()  # raises while held

    wait_until(row_lock_free, timeout=30, what="PostgreSQL to end the killed worker's transaction")
    job.refresh_from_db()
    assert (job.state, job.attempts, job.done_at) == (JobState.QUEUED, 0, None)
    assert effects(job.pk) == 0

    (hold / "release").touch()  # the next run does not wait
    with celery_worker(
        redis_url=services, tmp_path=tmp_path, monkeypatch=monkeypatch, queue=queue, name="restarted", env=JOBKIT
    ) as (worker, log):
        # the message died with the worker (acks_late; Redis would redeliver it only after its
        # visibility timeout): the lease hands the job out again
        assert scheduling.sweep(now=job.claimed_at + scheduling.LEASE - dt.timedelta(seconds=1)) == 0
        assert scheduling.sweep(now=job.claimed_at + scheduling.LEASE) == 1
        wait_done([job.pk], log=log, worker=worker)
    job.refresh_from_db()
    assert (job.state, job.attempts, effects(job.pk)) == (JobState.DONE, 1, 1)


def test_the_same_task_delivered_twice_has_one_effect(services, monkeypatch, tmp_path):
    T = clock.now() + dt.timedelta(days=1)
    with transaction.atomic():
        jobs = [scheduling.schedule(kind=jobkit.KIND, key=f"twice-{i}", due_at=T) for i in range(5)]
    ids = scheduling.claim_due(now=T)
    assert sorted(ids) == sorted(j.pk for j in jobs)
    with celery_worker(redis_url=services, tmp_path=tmp_path, monkeypatch=monkeypatch, env=JOBKIT) as (worker, log):
        run_jobs.delay(ids)
        run_jobs.delay(ids)  # the same message again
        run_jobs.delay([ids[0], ids[0], ids[1]])  # the same id twice in one chunk
        wait_until(
            lambda: len(results(log, "fulfillment.tasks.run_jobs")) == 3,
            timeout=60,
            what="the worker to finish the three deliveries",
            log=log,
            process=worker,
        )
    outcomes = results(log, "fulfillment.tasks.run_jobs")
    assert sum(o.get("done", 0) for o in outcomes) == 5  # each job ran in one delivery only
    assert all(set(o) <= {"done", "skipped"} for o in outcomes)  # the repeats were skipped, not failed
    assert {j.pk: effects(j.pk) for j in jobs} == {j.pk: 1 for j in jobs}
    assert set(Job.objects.filter(pk__in=ids).values_list("state", "attempts")) == {(JobState.DONE, 1)}


def test_two_beat_processes_by_mistake_still_run_each_job_once(services, monkeypatch, tmp_path):
    count = 200
    due = clock.now() + dt.timedelta(seconds=2)  # not due at commit: only the sweeps hand them out
    with transaction.atomic():
        jobs = [scheduling.schedule(kind=jobkit.KIND, key=f"beats-{i}", due_at=due) for i in range(count)]
    ids = [j.pk for j in jobs]
    queue = private_queue(monkeypatch)
    worker_args = {"redis_url": services, "tmp_path": tmp_path, "monkeypatch": monkeypatch, "queue": queue}
    with (
        celery_worker(**worker_args, name="worker-a", env=JOBKIT) as (worker_a, log_a),
        celery_worker(**worker_args, name="worker-b", env=JOBKIT) as (worker_b, log_b),
        celery_beat(redis_url=services, tmp_path=tmp_path, queue=queue, name="beat-a") as (beat_a, beat_log_a),
        celery_beat(redis_url=services, tmp_path=tmp_path, queue=queue, name="beat-b") as (beat_b, beat_log_b),
    ):
        wait_done(ids, log=log_a, worker=worker_a, timeout=120)
        # both beats really ran and both sent sweeps (the second may start after the first has
        # already handed every job out: wait for its first send rather than race it)
        for beat, beat_log in ((beat_a, beat_log_a), (beat_b, beat_log_b)):
            wait_until(
                lambda beat_log=beat_log: "fulfillment.tasks.sweep_jobs" in beat_log.read_text(errors="replace"),
                timeout=60,
                what=f"{beat_log.stem} to send a sweep",
                log=beat_log,
                process=beat,
            )
        assert worker_b.poll() is None, tail(log_b)

    per_job = dict(
        WebhookEvent.objects.filter(ref__in=[jobkit.effect_ref(pk) for pk in ids])
        .values_list("ref")
        .annotate(n=Count("id"))
    )
    assert len(per_job) == count
    assert set(per_job.values()) == {1}
    assert set(Job.objects.filter(pk__in=ids).values_list("state", "attempts")) == {(JobState.DONE, 1)}
    # no job was handed out twice: every run_jobs id ran ("done"), none was found done already
    outcomes = results(log_a, "fulfillment.tasks.run_jobs") + results(log_b, "fulfillment.tasks.run_jobs")
    assert sum(o.get("done", 0) for o in outcomes) == count
    assert sum(o.get("skipped", 0) for o in outcomes) == 0
    sweeps = results(log_a, "fulfillment.tasks.sweep_jobs") + results(log_b, "fulfillment.tasks.sweep_jobs")
    assert sum(sweeps) == count  # the sweeps together claimed each job once
    assert len(sweeps) >= 2


def _in_other_connection(func):
    """Run ``func`` on another thread (its own database connection, outside this test's
    transaction) and return what it returned."""
    out: dict = {}

    def target():
        try:
            out["value"] = func()
        except BaseException as exc:  # re-raised in the test's thread
            out["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=60)
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_no_task_runs_against_uncommitted_data(services, monkeypatch, tmp_path):
    with celery_worker(redis_url=services, tmp_path=tmp_path, monkeypatch=monkeypatch, env=JOBKIT) as (worker, log):
        with transaction.atomic():
            job = scheduling.schedule(kind=jobkit.KIND, key="uncommitted", due_at=clock.now(), ref="test:uncommitted")
            far = clock.now() + dt.timedelta(days=1)
            # another connection sees no job to claim (and does not wait for our lock)
            assert _in_other_connection(lambda: scheduling.claim_due(now=far)) == []
            # the worker's own sweep runs while the transaction is open and finds nothing
            sweep_jobs.delay()
            wait_until(
                lambda: results(log, "fulfillment.tasks.sweep_jobs") == [0],
                timeout=60,
                what="the worker's sweep",
                log=log,
                process=worker,
            )
            time.sleep(2)  # give a wrongly sent task time to run
            assert _in_other_connection(lambda: WebhookEvent.objects.filter(ref=jobkit.effect_ref(job.pk)).count()) == 0
            assert results(log, "fulfillment.tasks.run_jobs") == []
        # committed: the on-commit hand-out sends it
        wait_done([job.pk], log=log, worker=worker)
        assert effects(job.pk) == 1

        with pytest.raises(RuntimeError), transaction.atomic():
            rolled_back = scheduling.schedule(kind=jobkit.KIND, key="rolled-back", due_at=clock.now())
            raise RuntimeError("the business change failed")
        assert not Job.objects.filter(key="rolled-back").exists()
        sweep_jobs.delay()
        wait_until(
            lambda: results(log, "fulfillment.tasks.sweep_jobs") == [0, 0],
            timeout=60,
            what="the second sweep",
            log=log,
            process=worker,
        )
    assert results(log, "fulfillment.tasks.run_jobs") == [{"done": 1}]
    assert effects(rolled_back.pk) == 0
