"""Follow-up calls after resolution (inquiries.services.followups, inquiries.jobs.followups):
which delay, scheduling once per cycle, cancelling on reopen, the due and window jobs, each
outcome, retries at growing intervals, and who may log. Every time is an injected clock."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from fulfillment import clock, scheduling
from fulfillment.actors import Actor
from fulfillment.errors import InvalidInput, PermissionDenied
from fulfillment.models import Job, JobState, Notification
from fulfillment.tiers import Tier
from inquiries import services
from inquiries.enums import (
    CallDirection,
    CallOutcome,
    Category,
    EventType,
    FollowUpOutcome,
    FollowUpState,
    InquiryStatus,
    Priority,
)
from inquiries.models import CallLog, FollowUpCall, FollowUpDelay, InquiryEvent, SchedulePolicy
from inquiries.services import followups

from ..factories import CustomerFactory, UserFactory
from .factories import InquiryFactory

T0 = dt.datetime(2031, 3, 4, 10, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _resolved(assignee, *, at=T0, **kwargs):
    """An inquiry of ``assignee``'s resolved at ``at`` (delivery / normal: the 24-hour default)."""
    with clock.frozen(at - HOUR):
        inquiry = InquiryFactory(assignee=assignee, **kwargs)
    with clock.frozen(at):
        services.inquiry_set_status(actor=assignee, inquiry=inquiry, status=InquiryStatus.RESOLVED)
    inquiry.refresh_from_db()
    return inquiry


def _jobs(call: FollowUpCall):
    return Job.objects.filter(payload__call=call.pk).order_by("id")


def _run(call: FollowUpCall, *, at: dt.datetime) -> list[str]:
    """Run this call's jobs due at ``at`` (claimed and run as a worker would)."""
    ids = list(_jobs(call).values_list("id", flat=True))
    with clock.frozen(at):
        claimed = scheduling.claim_due(now=at, ids=ids)
        return [scheduling.run_job(pk) for pk in claimed]


def _types(inquiry) -> list[str]:
    return list(InquiryEvent.objects.filter(inquiry=inquiry).order_by("id").values_list("type", flat=True))


# --- which delay -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "priority", "minutes"),
    [
        (Category.DELIVERY, Priority.NORMAL, 24 * 60),  # (any, any)
        (Category.DELIVERY, Priority.URGENT, 4 * 60),  # (any, urgent)
        (Category.COMPLAINT, Priority.LOW, 4 * 60),  # (complaint, any)
        (Category.ACCOUNT_CHANGE, Priority.NORMAL, None),  # (account change, any) is switched off
        (Category.ACCOUNT_CHANGE, Priority.URGENT, None),  # (category, any) beats (any, priority)
    ],
)
def test_the_most_specific_delay_wins(db, category, priority, minutes):
    delay = followups.delay_for(category=category, priority=priority)
    assert (delay.delay_minutes if delay else None) == minutes


def test_category_and_priority_beats_everything(db):
    FollowUpDelay.objects.create(category=Category.COMPLAINT, priority=Priority.URGENT, delay_minutes=30)
    assert followups.delay_for(category=Category.COMPLAINT, priority=Priority.URGENT).delay_minutes == 30
    assert followups.delay_for(category=Category.COMPLAINT, priority=Priority.HIGH).delay_minutes == 4 * 60


def test_no_matching_row_means_no_call(db, rep):
    FollowUpDelay.objects.all().delete()
    inquiry = _resolved(rep)
    assert not FollowUpCall.objects.filter(inquiry=inquiry).exists()


def test_a_disabled_match_schedules_nothing(db, rep):
    inquiry = _resolved(rep, category=Category.ACCOUNT_CHANGE)
    assert not FollowUpCall.objects.filter(inquiry=inquiry).exists()
    assert EventType.FOLLOW_UP_SCHEDULED not in _types(inquiry)


def test_a_customer_who_opted_out_gets_no_call(db, rep):
    inquiry = _resolved(rep, customer=CustomerFactory(no_follow_up_calls=True))
    assert not FollowUpCall.objects.filter(inquiry=inquiry).exists()
    assert not Job.objects.filter(ref=f"inquiry:{inquiry.pk}", kind__startswith="inquiries.follow_up").exists()


# --- scheduling and cancelling --------------------------------------------------------------


def test_resolving_schedules_a_call_for_the_assignee_with_its_jobs(db, rep):
    SchedulePolicy.objects.filter(pk=1).update(follow_up_window_hours=6, follow_up_max_attempts=4)
    inquiry = _resolved(rep)
    call = FollowUpCall.objects.get(inquiry=inquiry)
    assert (call.state, call.assignee, call.cycle) == (FollowUpState.SCHEDULED, rep, 0)
    assert call.due_at == T0 + 24 * HOUR
    assert call.window_ends_at == T0 + 30 * HOUR
    assert (call.attempts, call.max_attempts) == (0, 4)
    jobs = {job.kind: job for job in _jobs(call)}
    assert jobs[followups.DUE_KIND].due_at == call.due_at
    assert jobs[followups.WINDOW_KIND].due_at == call.window_ends_at
    assert jobs[followups.DUE_KIND].key == f"follow-up:{call.pk}:0:due"
    assert jobs[followups.DUE_KIND].ref == f"inquiry:{inquiry.pk}"
    event = InquiryEvent.objects.get(inquiry=inquiry, type=EventType.FOLLOW_UP_SCHEDULED)
    assert event.details["caller"] == rep.get_full_name() and event.actor_user == rep


def test_the_resolver_calls_when_nobody_is_assigned(db, senior):
    with clock.frozen(T0):
        inquiry = InquiryFactory()
        services.inquiry_set_status(actor=senior, inquiry=inquiry, status=InquiryStatus.RESOLVED)
    assert FollowUpCall.objects.get(inquiry=inquiry).assignee == senior


def test_one_call_per_resolution_cycle(db, rep):
    inquiry = _resolved(rep)
    with clock.frozen(T0 + HOUR):
        followups.status_changed(inquiry, Actor.for_user(rep), old=InquiryStatus.OPEN, new=InquiryStatus.RESOLVED)
        services.inquiry_set_status(actor=rep, inquiry=inquiry, status=InquiryStatus.CLOSED)
    assert FollowUpCall.objects.filter(inquiry=inquiry).count() == 1
    assert _jobs(FollowUpCall.objects.get(inquiry=inquiry)).count() == 2


def test_a_reopened_inquiry_cancels_its_call_and_the_next_resolution_has_its_own(db, rep):
    inquiry = _resolved(rep)
    call = FollowUpCall.objects.get(inquiry=inquiry)
    with clock.frozen(T0 + HOUR):
        services.message_receive(actor=rep, inquiry=inquiry, body="It broke again.", channel="email")
    call.refresh_from_db()
    assert call.state == FollowUpState.CANCELLED
    assert set(_jobs(call).values_list("state", flat=True)) == {JobState.CANCELLED}
    assert EventType.FOLLOW_UP_CANCELLED in _types(inquiry)
    with clock.frozen(T0 + 2 * HOUR):
        services.inquiry_set_status(actor=rep, inquiry=inquiry, status=InquiryStatus.RESOLVED)
    second = FollowUpCall.objects.get(inquiry=inquiry, cycle=1)
    assert (second.state, second.due_at) == (FollowUpState.SCHEDULED, T0 + 26 * HOUR)


# --- the jobs ----------------------------------------------------------------------------------


def test_the_due_job_makes_the_call_due_and_tells_the_caller_once(db, rep):
    inquiry = _resolved(rep)
    call = FollowUpCall.objects.get(inquiry=inquiry)
    assert _run(call, at=T0 + 24 * HOUR - dt.timedelta(seconds=1)) == []  # not yet
    assert _run(call, at=T0 + 24 * HOUR) == [JobState.DONE]
    call.refresh_from_db()
    assert call.state == FollowUpState.DUE
    assert EventType.FOLLOW_UP_DUE in _types(inquiry)
    notice = Notification.objects.get(recipient=rep, key=f"follow-up:{call.pk}:0")
    assert notice.url == f"/inquiries/{inquiry.pk}/"
    assert inquiry.reference in notice.title
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [rep.email]
    assert inquiry.customer.phone in mail.outbox[0].body
    # delivered again (a duplicate message, a second beat): the job has run, nothing more happens
    with clock.frozen(T0 + 25 * HOUR):
        assert {scheduling.run_job(job.pk) for job in _jobs(call)} == {"skipped"}
    followups.tell_caller(call, inquiry)  # even told again by hand: one notice, one mail
    assert Notification.objects.filter(recipient=rep).count() == 1 and len(mail.outbox) == 1


def test_the_due_job_of_a_logged_call_does_nothing(db, rep):
    inquiry = _resolved(rep)
    call = FollowUpCall.objects.get(inquiry=inquiry)
    with clock.frozen(T0 + HOUR):  # called early
        followups.follow_up_log(actor=rep, call=call, outcome=FollowUpOutcome.SATISFIED)
    assert _run(call, at=T0 + 48 * HOUR) == []  # its jobs were cancelled
    job = _jobs(call).first()
    Job.objects.filter(pk=job.pk).update(state=JobState.QUEUED)  # a message that escaped anyway
    with clock.frozen(T0 + 48 * HOUR):
        assert scheduling.run_job(job.pk) == JobState.DONE
    call.refresh_from_db()
    assert call.state == FollowUpState.DONE
    assert not Notification.objects.exists() and not mail.outbox


def test_a_call_not_made_in_its_window_is_missed(db, rep):
    inquiry = _resolved(rep)
    call = FollowUpCall.objects.get(inquiry=inquiry)
    _run(call, at=T0 + 24 * HOUR)
    assert _run(call, at=T0 + 48 * HOUR) == [JobState.DONE]
    call.refresh_from_db()
    assert call.state == FollowUpState.MISSED
    event = InquiryEvent.objects.get(inquiry=inquiry, type=EventType.FOLLOW_UP_MISSED)
    assert event.actor_kind == "system"


# --- logging the outcome -----------------------------------------------------------------------


def _due_call(rep):
    inquiry = _resolved(rep)
    call = FollowUpCall.objects.get(inquiry=inquiry)
    _run(call, at=T0 + 24 * HOUR)
    call.refresh_from_db()
    return inquiry, call


def test_satisfied_closes_the_inquiry_and_logs_the_call(db, rep):
    inquiry, call = _due_call(rep)
    with clock.frozen(T0 + 25 * HOUR):
        followups.follow_up_log(actor=rep, call=call, outcome=FollowUpOutcome.SATISFIED, notes="All good now.")
    call.refresh_from_db()
    inquiry.refresh_from_db()
    assert (call.state, call.outcome, call.attempts, call.done_by_name) == (
        FollowUpState.DONE,
        FollowUpOutcome.SATISFIED,
        1,
        rep.username,
    )
    assert call.done_at == T0 + 25 * HOUR
    assert inquiry.status == InquiryStatus.CLOSED
    logged = CallLog.objects.get(inquiry=inquiry)
    assert (logged.direction, logged.outcome, logged.notes) == (
        CallDirection.OUTBOUND,
        CallOutcome.INFO_GIVEN,
        "All good now.",
    )
    types = _types(inquiry)
    assert types[-3:] == [EventType.CALL, EventType.FOLLOW_UP_LOGGED, EventType.STATUS_CHANGED]
    assert set(_jobs(call).values_list("state", flat=True)) == {JobState.DONE, JobState.CANCELLED}


def test_problem_remains_reopens_the_inquiry_in_a_new_cycle(db, rep):
    inquiry, call = _due_call(rep)
    with clock.frozen(T0 + 25 * HOUR):
        followups.follow_up_log(actor=rep, call=call, outcome=FollowUpOutcome.PROBLEM_REMAINS)
    call.refresh_from_db()
    inquiry.refresh_from_db()
    assert call.state == FollowUpState.DONE  # done, not cancelled by the reopening
    assert (inquiry.status, inquiry.reopen_count) == (InquiryStatus.OPEN, 1)
    with clock.frozen(T0 + 30 * HOUR):
        services.inquiry_set_status(actor=rep, inquiry=inquiry, status=InquiryStatus.RESOLVED)
    assert FollowUpCall.objects.filter(inquiry=inquiry).count() == 2


def test_no_answer_retries_at_growing_intervals_until_unreached(db, rep):
    SchedulePolicy.objects.filter(pk=1).update(follow_up_max_attempts=3, follow_up_retry_minutes=60)
    inquiry, call = _due_call(rep)
    at = T0 + 25 * HOUR
    window = call.window_ends_at - call.due_at
    for attempt, wait in [(1, HOUR), (2, 2 * HOUR)]:
        with clock.frozen(at):
            followups.follow_up_log(actor=rep, call=call, outcome=FollowUpOutcome.NO_ANSWER)
        call.refresh_from_db()
        assert (call.state, call.attempts) == (FollowUpState.SCHEDULED, attempt)
        assert call.due_at == at + wait
        assert call.window_ends_at == call.due_at + window
        fresh = {job.kind: job for job in _jobs(call).filter(key__contains=f":{attempt}:")}
        assert fresh[followups.DUE_KIND].due_at == call.due_at
        assert fresh[followups.WINDOW_KIND].due_at == call.window_ends_at
        # the old attempt's window job is cancelled: it would have missed a call now rescheduled
        old_window = Job.objects.get(key=f"follow-up:{call.pk}:{attempt - 1}:window")
        assert old_window.state == JobState.CANCELLED
        at = call.due_at
        assert _run(call, at=at) == [JobState.DONE]  # due again: the caller is told again
        assert Notification.objects.filter(key=f"follow-up:{call.pk}:{attempt}", recipient=rep).exists()
        at += dt.timedelta(minutes=5)
    with clock.frozen(at):
        followups.follow_up_log(actor=rep, call=call, outcome=FollowUpOutcome.VOICEMAIL)
    call.refresh_from_db()
    inquiry.refresh_from_db()
    assert (call.state, call.attempts, call.outcome) == (FollowUpState.UNREACHED, 3, FollowUpOutcome.VOICEMAIL)
    assert inquiry.status == InquiryStatus.RESOLVED  # unreached: the inquiry stays as it was
    assert CallLog.objects.filter(inquiry=inquiry).count() == 3
    assert not _jobs(call).filter(state=JobState.SCHEDULED).exists()


def test_a_missed_call_can_still_be_logged_late(db, rep, supervisor):
    _inquiry, call = _due_call(rep)
    _run(call, at=T0 + 48 * HOUR)
    with clock.frozen(T0 + 50 * HOUR):
        followups.follow_up_log(actor=supervisor, call=call, outcome=FollowUpOutcome.SATISFIED)
    call.refresh_from_db()
    assert call.state == FollowUpState.DONE


# --- who may log, and refusals -----------------------------------------------------------------


def _snapshot(inquiry, call):
    call.refresh_from_db()
    inquiry.refresh_from_db()
    return (call.state, call.attempts, inquiry.status, inquiry.version, CallLog.objects.count(), Job.objects.count())


def test_another_rep_may_not_log_and_nothing_changes(db, rep):
    inquiry, call = _due_call(rep)
    before = _snapshot(inquiry, call)
    other = UserFactory(username="rep2", tier=Tier.REP)
    with clock.frozen(T0 + 25 * HOUR), pytest.raises(PermissionDenied):
        followups.follow_up_log(actor=other, call=call, outcome=FollowUpOutcome.SATISFIED)
    assert _snapshot(inquiry, call) == before


@pytest.mark.parametrize("who", ["senior", "supervisor"])
def test_a_senior_or_a_supervisor_may_log(db, rep, who, request):
    _inquiry, call = _due_call(rep)
    with clock.frozen(T0 + 25 * HOUR):
        followups.follow_up_log(actor=request.getfixturevalue(who), call=call, outcome=FollowUpOutcome.NO_ANSWER)
    call.refresh_from_db()
    assert call.attempts == 1


def test_a_senior_may_not_log_a_colleague_at_the_same_tier(db, senior):
    _inquiry, call = _due_call(senior)
    with clock.frozen(T0 + 25 * HOUR), pytest.raises(PermissionDenied):
        followups.follow_up_log(
            actor=UserFactory(username="senior2", tier=Tier.SENIOR_REP), call=call, outcome="satisfied"
        )


def test_an_api_client_may_not_log(db, rep):
    _inquiry, call = _due_call(rep)
    client = Actor.api_client(client_id=9, name="shop", scopes=frozenset({"read", "write"}))
    with clock.frozen(T0 + 25 * HOUR), pytest.raises(PermissionDenied):
        followups.follow_up_log(actor=client, call=call, outcome=FollowUpOutcome.SATISFIED)


def test_logging_a_call_that_is_not_open_is_a_clear_error(db, rep):
    inquiry, call = _due_call(rep)
    with clock.frozen(T0 + 25 * HOUR):
        followups.follow_up_log(actor=rep, call=call, outcome=FollowUpOutcome.SATISFIED)
    before = _snapshot(inquiry, call)
    with clock.frozen(T0 + 26 * HOUR), pytest.raises(InvalidInput) as refused:
        followups.follow_up_log(actor=rep, call=call, outcome=FollowUpOutcome.SATISFIED)
    assert "outcome" in refused.value.field_errors
    assert _snapshot(inquiry, call) == before


def test_a_bad_outcome_is_a_field_error(db, rep):
    _inquiry, call = _due_call(rep)
    with pytest.raises(InvalidInput) as refused:
        followups.follow_up_log(actor=rep, call=call, outcome="maybe")
    assert list(refused.value.field_errors) == ["outcome"]


def test_a_missed_call_of_a_reopened_inquiry_is_not_logged(db, rep):
    inquiry, call = _due_call(rep)
    _run(call, at=T0 + 48 * HOUR)
    with clock.frozen(T0 + 49 * HOUR):
        services.message_receive(actor=rep, inquiry=inquiry, body="Still broken.", channel="email")
    call.refresh_from_db()
    assert call.state == FollowUpState.MISSED  # missed stays missed (the rule judges it)
    with clock.frozen(T0 + 50 * HOUR), pytest.raises(InvalidInput):
        followups.follow_up_log(actor=rep, call=call, outcome=FollowUpOutcome.SATISFIED)
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.OPEN


# --- reassigning -------------------------------------------------------------------------------


def test_a_senior_gives_a_due_call_to_another_rep_who_is_told(db, rep, senior, django_capture_on_commit_callbacks):
    _inquiry, call = _due_call(rep)
    other = UserFactory(username="rep2", tier=Tier.REP)
    with clock.frozen(T0 + 25 * HOUR), django_capture_on_commit_callbacks(execute=True):
        followups.follow_up_reassign(actor=senior, call=call, assignee=other)
    call.refresh_from_db()
    assert call.assignee == other
    assert Notification.objects.filter(recipient=other, key=f"follow-up:{call.pk}:0").exists()
    with clock.frozen(T0 + 26 * HOUR):
        followups.follow_up_log(actor=other, call=call, outcome=FollowUpOutcome.SATISFIED)
    with pytest.raises(PermissionDenied):
        followups.follow_up_reassign(actor=rep, call=call, assignee=rep)
