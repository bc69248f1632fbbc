"""The scheduled-work engine (fulfillment.scheduling): claim, run once, retry, fail, lease.

Clock-driven: every time here is an injected clock (``clock.frozen``), never a sleep. The same
guarantees against real Redis and a real worker process are in tests/services/test_scheduled_work_worker.py.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from fulfillment import clock, scheduling
from fulfillment.models import Job, JobState

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
RUNS: list[int] = []
FAILS: dict[int, int] = {}


@scheduling.handler("test.record", max_attempts=3)
def _record(job: Job) -> None:
    from fulfillment.models import Heartbeat

    RUNS.append(job.pk)
    Heartbeat.objects.create(name=f"job-{job.pk}-{len(RUNS)}", at=clock.now())  # a database effect
    if FAILS.get(job.pk, 0) > 0:
        FAILS[job.pk] -= 1
        raise RuntimeError("the far end said no")


@pytest.fixture(autouse=True)
def _reset():
    RUNS.clear()
    FAILS.clear()


def _job(key="k1", due=T0, **kw) -> Job:
    with clock.frozen(T0 - dt.timedelta(hours=1)):
        return scheduling.schedule(kind="test.record", key=key, due_at=due, ref="test:1", **kw)


def test_a_job_is_not_claimed_before_it_is_due(db):
    job = _job()
    assert scheduling.claim_due(now=T0 - dt.timedelta(seconds=1)) == []
    assert scheduling.claim_due(now=T0) == [job.pk]
    job.refresh_from_db()
    assert (job.state, job.claimed_at) == (JobState.QUEUED, T0)


def test_a_claimed_job_is_not_claimed_again_while_its_lease_runs(db):
    job = _job()
    assert scheduling.claim_due(now=T0) == [job.pk]
    assert scheduling.claim_due(now=T0 + scheduling.LEASE - dt.timedelta(seconds=1)) == []
    # the worker never finished it (killed, or the message was lost): handed out again
    assert scheduling.claim_due(now=T0 + scheduling.LEASE) == [job.pk]


def test_a_job_runs_once_however_often_it_is_delivered(db):
    job = _job()
    scheduling.claim_due(now=T0)
    with clock.frozen(T0):
        assert scheduling.run_job(job.pk) == JobState.DONE
        assert scheduling.run_job(job.pk) == "skipped"
        assert scheduling.run_jobs([job.pk, job.pk]) == {"skipped": 1}
    assert [job.pk] == RUNS
    job.refresh_from_db()
    assert (job.state, job.done_at, job.attempts) == (JobState.DONE, T0, 1)


def test_an_unclaimed_job_is_not_run(db):
    job = _job()
    assert scheduling.run_job(job.pk) == "skipped"
    assert RUNS == []


def test_a_failing_job_is_retried_with_growing_back_off_then_failed(db):
    job = _job()
    FAILS[job.pk] = 5
    now = T0
    waits = []
    for _ in range(3):
        assert scheduling.claim_due(now=now) == [job.pk]
        with clock.frozen(now):
            scheduling.run_job(job.pk)
        job.refresh_from_db()
        if job.state == JobState.SCHEDULED:
            waits.append(job.due_at - now)
            now = job.due_at
    assert waits == [dt.timedelta(seconds=30), dt.timedelta(seconds=60)]
    assert job.state == JobState.FAILED
    assert job.attempts == 3
    assert "the far end said no" in job.last_error
    # the failed attempts' writes were undone with them: no half-done work
    from fulfillment.models import Heartbeat

    assert Heartbeat.objects.filter(name__startswith=f"job-{job.pk}-").count() == 0
    assert scheduling.claim_due(now=now + dt.timedelta(days=1)) == []


def test_a_failed_job_retried_by_hand_runs_again(db, django_capture_on_commit_callbacks):
    job = _job()
    FAILS[job.pk] = 3
    now = T0
    for _ in range(3):
        scheduling.claim_due(now=now)
        with clock.frozen(now):
            scheduling.run_job(job.pk)
        job.refresh_from_db()
        now = max(now, job.due_at)
    assert job.state == JobState.FAILED
    with clock.frozen(now), django_capture_on_commit_callbacks(execute=False):
        scheduling.retry(job=job)
    assert scheduling.claim_due(now=now) == [job.pk]
    with clock.frozen(now):
        assert scheduling.run_job(job.pk) == JobState.DONE


def test_an_unknown_kind_fails_with_a_clear_error(db):
    with clock.frozen(T0):
        job = scheduling.schedule(kind="test.nobody-handles-this", key="u", due_at=T0 + dt.timedelta(minutes=1))
    scheduling.claim_due(now=T0 + dt.timedelta(minutes=1))
    with clock.frozen(T0):
        assert scheduling.run_job(job.pk) == JobState.FAILED
    job.refresh_from_db()
    assert "no handler is registered for 'test.nobody-handles-this'" in job.last_error


def test_the_same_key_is_one_job_and_replace_moves_it(db):
    first = _job(key="follow-up:1")
    again = _job(key="follow-up:1", due=T0 + dt.timedelta(hours=5))
    assert again.pk == first.pk and again.due_at == T0
    moved = _job(key="follow-up:1", due=T0 + dt.timedelta(hours=5), replace=True, payload={"try": 2})
    assert (moved.pk, moved.due_at, moved.payload) == (first.pk, T0 + dt.timedelta(hours=5), {"try": 2})
    assert Job.objects.count() == 1


def test_cancelled_jobs_are_not_claimed(db):
    job = _job()
    assert scheduling.cancel(keys=[job.key]) == 1
    assert scheduling.claim_due(now=T0 + dt.timedelta(days=1)) == []
    with pytest.raises(ValueError):
        scheduling.cancel()


def test_a_job_due_already_is_handed_out_when_its_transaction_commits(db, django_capture_on_commit_callbacks):
    with clock.frozen(T0), django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = scheduling.schedule(kind="test.record", key="now", due_at=T0)
    assert len(callbacks) == 1
    assert Job.objects.get(pk=job.pk).state == JobState.SCHEDULED  # nothing before the commit


def test_a_rolled_back_change_leaves_no_job(db, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _job(key="rolled-back")
        raise RuntimeError("the business change failed")
    assert callbacks == []
    assert not Job.objects.filter(key="rolled-back").exists()


def test_the_sweep_claims_in_batches_oldest_first(db, monkeypatch):
    monkeypatch.setattr(scheduling, "CLAIM_BATCH", 3)
    sent = []
    monkeypatch.setattr(scheduling, "enqueue", lambda ids: sent.append(list(ids)) or True)
    jobs = [_job(key=f"b{i}", due=T0 - dt.timedelta(minutes=i)) for i in range(7)]
    _job(key="later", due=T0 + dt.timedelta(minutes=1))
    assert scheduling.sweep(now=T0) == 7
    assert sent == [[jobs[6].pk, jobs[5].pk, jobs[4].pk], [jobs[3].pk, jobs[2].pk, jobs[1].pk], [jobs[0].pk]]


def test_a_broker_that_refuses_loses_nothing(db, monkeypatch):
    from fulfillment import tasks

    def refuse(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.run_jobs, "apply_async", refuse)
    job = _job()
    assert scheduling.sweep(now=T0) == 1
    job.refresh_from_db()
    assert job.state == JobState.QUEUED
    # when the lease ends the next sweep hands it out again
    monkeypatch.undo()
    monkeypatch.setattr(scheduling, "enqueue", lambda ids: True)
    assert scheduling.claim_due(now=T0 + scheduling.LEASE) == [job.pk]


def test_finished_jobs_are_purged_after_the_retention_failed_ones_stay(db, settings):
    settings.FD_JOB_RETENTION_DAYS = 30
    old, recent, failed, cancelled, _waiting = (
        _job(key=k) for k in ("old", "recent", "failed", "cancelled", "waiting")
    )
    Job.objects.filter(pk=old.pk).update(state=JobState.DONE, done_at=T0 - dt.timedelta(days=31))
    Job.objects.filter(pk=recent.pk).update(state=JobState.DONE, done_at=T0 - dt.timedelta(days=29))
    Job.objects.filter(pk=failed.pk).update(state=JobState.FAILED, updated_at=T0 - dt.timedelta(days=90))
    Job.objects.filter(pk=cancelled.pk).update(state=JobState.CANCELLED, updated_at=T0 - dt.timedelta(days=31))
    assert scheduling.purge(now=T0, batch=1) == 2
    assert set(Job.objects.values_list("key", flat=True)) == {"recent", "failed", "waiting"}
    assert scheduling.purge(now=T0) == 0


def test_the_same_id_twice_in_one_chunk_runs_once(db):
    job = _job()
    scheduling.claim_due(now=T0)
    with clock.frozen(T0):
        assert scheduling.run_jobs([job.pk, job.pk]) == {"done": 1}
    assert [job.pk] == RUNS


def test_a_chunk_commits_together_but_a_failing_job_undoes_only_its_own_writes(db):
    from fulfillment.models import Heartbeat

    jobs = [_job(key=f"c{i}") for i in range(3)]
    FAILS[jobs[1].pk] = 1
    scheduling.claim_due(now=T0)
    with clock.frozen(T0):
        counts = scheduling.run_jobs([j.pk for j in jobs])
    assert counts == {"done": 2, JobState.SCHEDULED: 1}
    states = dict(Job.objects.values_list("key", "state"))
    assert states == {"c0": JobState.DONE, "c1": JobState.SCHEDULED, "c2": JobState.DONE}
    assert Job.objects.get(key="c0").attempts == 1
    assert Heartbeat.objects.filter(name__startswith=f"job-{jobs[1].pk}-").count() == 0
    assert Heartbeat.objects.filter(name__startswith=f"job-{jobs[2].pk}-").count() == 1


def test_a_chunk_past_its_budget_hands_the_rest_to_a_new_task(db, monkeypatch):
    sent = []
    monkeypatch.setattr(scheduling, "enqueue", lambda ids: sent.append(list(ids)) or True)
    monkeypatch.setattr(scheduling, "COMMIT_SECONDS", 0.0)  # every job its own batch
    jobs = [_job(key=f"h{i}") for i in range(3)]
    scheduling.claim_due(now=T0)
    with clock.frozen(T0):
        counts = scheduling.run_jobs([j.pk for j in jobs], budget=0.0)
    assert counts == {"done": 1, "handed_on": 2}
    assert sent == [[jobs[1].pk, jobs[2].pk]]
    assert list(Job.objects.filter(pk__in=sent[0]).values_list("state", flat=True)) == [JobState.QUEUED] * 2
