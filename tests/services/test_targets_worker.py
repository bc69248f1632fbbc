"""Recomputing deadlines after a policy edit, through Redis and a REAL Celery worker process."""

from __future__ import annotations

import datetime as dt

import pytest

from fulfillment import clock
from fulfillment.actors import Actor
from inquiries.models import Inquiry, InquiryEvent, PolicyTarget, RecomputeState, ServicePolicy, TargetRecompute
from inquiries.services import targets
from inquiries.tasks import sweep_target_recomputes
from tests.inquiries.factories import InquiryFactory

from .conftest import celery_worker, wait_until

pytestmark = pytest.mark.services

ADMIN = Actor.system("test admin")
TUESDAY_10 = dt.datetime(2031, 3, 4, 10, 0, tzinfo=dt.UTC)


def _normal_first_response(minutes: int) -> ServicePolicy:
    policy = ServicePolicy.objects.get(is_default=True)
    PolicyTarget.objects.filter(policy=policy, priority=2, channel="").update(first_response_minutes=minutes)
    return policy


def test_a_policy_edit_is_recomputed_by_the_worker_on_commit(transactional_db, redis_url, monkeypatch, tmp_path):
    with clock.frozen(TUESDAY_10):
        inquiries = [InquiryFactory() for _ in range(3)]  # normal priority: first response Wednesday 10:00
    assert {i.due_at for i in inquiries} == {TUESDAY_10 + dt.timedelta(hours=24)}
    with celery_worker(redis_url=redis_url, tmp_path=tmp_path, monkeypatch=monkeypatch) as (worker, log):
        policy = _normal_first_response(120)  # now two business hours: Tuesday 12:00
        job = targets.policy_changed(actor=ADMIN, policy=policy)  # autocommit: enqueued at once
        done = wait_until(
            lambda: TargetRecompute.objects.filter(pk=job.pk, state=RecomputeState.DONE).first(),
            timeout=60,
            what="the worker to finish the recompute",
            log=log,
            process=worker,
        )
    assert (done.total, done.done) == (3, 3)
    rows = Inquiry.objects.filter(pk__in=[i.pk for i in inquiries])
    assert {r.due_at for r in rows} == {TUESDAY_10 + dt.timedelta(hours=2)}
    assert InquiryEvent.objects.filter(type="deadlines_recomputed", inquiry__in=rows).count() == 3
    assert "inquiries.tasks.recompute_targets" in log.read_text(errors="replace")


def test_a_job_no_worker_received_is_run_by_the_sweep(transactional_db, redis_url, monkeypatch, tmp_path):
    """The broker was unreachable at the edit: the row is the schedule, the sweep runs it."""
    with clock.frozen(TUESDAY_10):
        inquiry = InquiryFactory()
    policy = _normal_first_response(60)
    job = targets.recompute_request(actor=ADMIN, reason="broker was down", policy=policy, enqueue=False)
    assert TargetRecompute.objects.get(pk=job.pk).state == RecomputeState.PENDING
    with celery_worker(redis_url=redis_url, tmp_path=tmp_path, monkeypatch=monkeypatch) as (worker, log):
        sweep_target_recomputes.delay()
        wait_until(
            lambda: TargetRecompute.objects.filter(pk=job.pk, state=RecomputeState.DONE).exists(),
            timeout=60,
            what="the sweep to run the waiting recompute",
            log=log,
            process=worker,
        )
    assert Inquiry.objects.get(pk=inquiry.pk).due_at == TUESDAY_10 + dt.timedelta(hours=1)


def test_a_job_is_claimed_once(transactional_db):
    """A task delivered twice, or a task racing the sweep: only the first claim runs the job."""
    job = targets.recompute_request(actor=ADMIN, reason="twice", enqueue=False)
    assert targets.recompute_claim(job.pk) == job.pk
    assert targets.recompute_claim(job.pk) is None
    assert targets.recompute_claim() is None
    with clock.frozen(clock.now() + targets.STALE_AFTER + dt.timedelta(seconds=1)):
        assert targets.recompute_claim() == job.pk  # a worker that died mid-job is taken over
