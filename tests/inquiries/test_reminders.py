"""Reminders on inquiries (inquiries.services.reminders, docs/reminders.md): callback reminders,
customer updates for quiet inquiries, service-target warnings — each job due, with nothing to
do, and run again; the sweep's keys; REMIND and AUTO; the customer's language. Every time is an
injected clock."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import translation
from django.utils.translation import gettext

from escalation.enums import Trigger
from escalation.models import EscalationRule
from escalation.services import auto
from fulfillment import clock, scheduling
from fulfillment.models import Job, JobState, Notification
from inquiries import services
from inquiries.enums import CallDirection, CallOutcome, EventType, InquiryStatus, UpdateMode
from inquiries.models import Inquiry, Message, ResponseTemplate, SchedulePolicy
from inquiries.services import reminders

from ..factories import CustomerFactory
from .conftest import NOW
from .factories import InquiryFactory
from .helpers import events_of

HOUR = dt.timedelta(hours=1)


def run(key: str, at: dt.datetime) -> str:
    """Claim the job named ``key`` at ``at`` (it must be due) and run it there."""
    job = Job.objects.get(key=key)
    assert scheduling.claim_due(now=at, ids=[job.pk]) == [job.pk], f"{key} is not due at {at}"
    with clock.frozen(at):
        return scheduling.run_job(job.pk)


def sweep(at: dt.datetime) -> int:
    with clock.frozen(at):
        return reminders.sweep()


def notices(user, key_start: str = "") -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, key__startswith=key_start).order_by("id"))


def policy(**fields) -> SchedulePolicy:
    SchedulePolicy.objects.filter(pk=1).update(**fields)
    return SchedulePolicy.current()


# --- callback promises ---------------------------------------------------------------------------


def _promise(rep, inquiry, due_at):
    with clock.frozen(NOW):
        return services.callback_promise(actor=rep, inquiry=inquiry, due_at=due_at, note="about the refund")


def test_a_callback_reminder_comes_before_the_promised_time(rep, customer):
    inquiry = InquiryFactory(customer=customer, assignee=rep)
    callback = _promise(rep, inquiry, NOW + 2 * HOUR)
    job = Job.objects.get(key=f"callback:{callback.pk}:remind")
    assert (job.kind, job.due_at, job.ref) == (
        "inquiries.callback_reminder",
        NOW + 2 * HOUR - dt.timedelta(minutes=15),
        f"inquiry:{inquiry.pk}",
    )
    assert scheduling.claim_due(now=job.due_at - dt.timedelta(seconds=1), ids=[job.pk]) == []

    assert run(job.key, job.due_at) == JobState.DONE
    (notice,) = notices(rep, "callback:")
    assert notice.title.startswith(f"Call {customer.name} back by ")
    assert notice.title.endswith(inquiry.reference)
    assert notice.url == f"/inquiries/{inquiry.pk}/"
    assert "about the refund" in notice.body
    assert [m.to for m in mail.outbox] == [[rep.email]]
    (event,) = events_of(inquiry, EventType.CALLBACK_REMINDED)
    assert (event.details["callback"], event.details["told"], event.actor_kind) == (callback.pk, ["rep1"], "system")


def test_a_callback_promised_for_soon_is_reminded_at_once(rep, customer):
    inquiry = InquiryFactory(customer=customer, assignee=rep)
    callback = _promise(rep, inquiry, NOW + dt.timedelta(minutes=5))
    assert Job.objects.get(key=f"callback:{callback.pk}:remind").due_at == NOW


def test_a_callback_already_made_is_not_reminded(rep, customer):
    inquiry = InquiryFactory(customer=customer, assignee=rep)
    callback = _promise(rep, inquiry, NOW + 2 * HOUR)
    with clock.frozen(NOW + HOUR):
        services.callback_complete(actor=rep, callback=callback)
    assert run(f"callback:{callback.pk}:remind", NOW + 2 * HOUR) == JobState.DONE  # nothing to do is success
    assert notices(rep) == [] and mail.outbox == []
    assert events_of(inquiry, EventType.CALLBACK_REMINDED) == []


def test_a_reminder_told_once_is_not_told_again(rep, customer):
    """A retried job (its first try told the rep, then failed after the notice committed) tells
    nobody twice and records no second event."""
    inquiry = InquiryFactory(customer=customer, assignee=rep)
    callback = _promise(rep, inquiry, NOW + 2 * HOUR)
    key = f"callback:{callback.pk}:remind"
    with clock.frozen(NOW + HOUR):
        assert reminders.remind_callback(callback_id=callback.pk, key=key) == 1
        assert reminders.remind_callback(callback_id=callback.pk, key=key) == 0
    assert len(notices(rep)) == 1 and len(mail.outbox) == 1
    assert len(events_of(inquiry, EventType.CALLBACK_REMINDED)) == 1


def test_a_failed_try_is_undone_and_the_retry_tells_once(rep, customer, monkeypatch):
    inquiry = InquiryFactory(customer=customer, assignee=rep)
    callback = _promise(rep, inquiry, NOW + 2 * HOUR)
    key = f"callback:{callback.pk}:remind"
    real = reminders.events.callback_reminded

    def broken(*args, **kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(reminders.events, "callback_reminded", broken)
    due = NOW + 2 * HOUR - dt.timedelta(minutes=15)
    assert run(key, due) == JobState.SCHEDULED  # retried with back-off
    assert notices(rep) == []  # the notice was undone with the try
    monkeypatch.setattr(reminders.events, "callback_reminded", real)
    job = Job.objects.get(key=key)
    assert run(key, job.due_at) == JobState.DONE
    assert len(notices(rep)) == 1
    assert len(events_of(inquiry, EventType.CALLBACK_REMINDED)) == 1


def test_the_callback_owner_is_told_not_the_assignee(rep, senior, customer):
    inquiry = InquiryFactory(customer=customer, assignee=rep)
    callback = _promise(senior, inquiry, NOW + 2 * HOUR)
    run(f"callback:{callback.pk}:remind", NOW + 2 * HOUR)
    assert len(notices(senior)) == 1 and notices(rep) == []


def test_a_missed_callback_reaches_the_escalation_rule(rep, customer):
    """The reminder does not replace the escalation: a callback still pending past its time plus
    the rule's grace is a breach of the CALLBACK_MISSED rule (escalation/services/auto.py)."""
    rule = EscalationRule.objects.get(trigger=Trigger.CALLBACK_MISSED)
    inquiry = InquiryFactory(customer=customer, assignee=rep)
    callback = _promise(rep, inquiry, NOW + 2 * HOUR)
    run(f"callback:{callback.pk}:remind", NOW + 2 * HOUR)
    late = NOW + 2 * HOUR + dt.timedelta(minutes=rule.grace_minutes)
    assert auto.Breach(inquiry.pk, f"callback:{callback.pk}") in auto.breaches(rule, now=late)
    assert auto.breaches(rule, now=late - dt.timedelta(minutes=1)) == []


# --- customers who heard nothing -----------------------------------------------------------------


@pytest.fixture
def quiet(rep):
    """An assigned email inquiry opened at NOW that nobody has answered."""
    with clock.frozen(NOW):
        return InquiryFactory(assignee=rep)


def test_the_sweep_schedules_one_update_per_silence_and_a_second_sweep_adds_nothing(quiet):
    policy(quiet_hours=48, quiet_update=UpdateMode.REMIND)
    assert sweep(NOW + 47 * HOUR) == 0
    assert sweep(NOW + 48 * HOUR) == 1
    assert sweep(NOW + 48 * HOUR) == 0
    assert sweep(NOW + 60 * HOUR) == 0
    (job,) = Job.objects.filter(kind="inquiries.quiet_update")
    assert job.key == f"quiet:{quiet.pk}:{int(quiet.created_at.timestamp())}"
    assert job.payload == {"inquiry": quiet.pk, "since": quiet.created_at.isoformat()}


def test_remind_proposes_the_update_to_the_assignee(quiet, rep):
    policy(quiet_hours=48, quiet_update=UpdateMode.REMIND)
    sweep(NOW + 48 * HOUR)
    key = f"quiet:{quiet.pk}:{int(quiet.created_at.timestamp())}"
    assert run(key, NOW + 48 * HOUR) == JobState.DONE
    template = ResponseTemplate.objects.get(name="Still working on it", language="en")
    (notice,) = notices(rep, "quiet:")
    assert notice.url == f"/inquiries/{quiet.pk}/?template={template.pk}#reply"
    assert quiet.reference in notice.title
    (event,) = events_of(quiet, EventType.UPDATE_PROPOSED)
    assert event.details == {"why": "quiet", "template": "Still working on it", "told": ["rep1"]}
    assert not Message.objects.filter(inquiry=quiet, kind="outbound").exists()  # nothing sent


def test_unassigned_quiet_inquiries_get_the_proposal_and_nobody_is_told(rep):
    policy(quiet_hours=48, quiet_update=UpdateMode.REMIND)
    with clock.frozen(NOW):
        inquiry = InquiryFactory()
    sweep(NOW + 48 * HOUR)
    run(f"quiet:{inquiry.pk}:{int(inquiry.created_at.timestamp())}", NOW + 48 * HOUR)
    assert Notification.objects.count() == 0
    assert events_of(inquiry, EventType.UPDATE_PROPOSED)[0].details["told"] == []


def _answered(rep, language: str) -> Inquiry:
    """An email inquiry of a customer speaking ``language``, answered by the rep at NOW."""
    with clock.frozen(NOW - HOUR):
        inquiry = InquiryFactory(customer=CustomerFactory(preferred_language=language), assignee=rep)
    with clock.frozen(NOW):
        services.reply_send(actor=rep, inquiry=inquiry, body="We are looking into it.")
    return Inquiry.objects.get(pk=inquiry.pk)


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "still working on your inquiry"), ("hi", "अभी भी काम कर रहे हैं"), ("fil", "patuloy pa rin")],
)
def test_auto_sends_still_working_in_the_customers_language(rep, language, words, django_capture_on_commit_callbacks):
    policy(quiet_hours=48, quiet_update=UpdateMode.AUTO)
    inquiry = _answered(rep, language)
    later = NOW + 48 * HOUR
    assert sweep(later) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert run(f"quiet:{inquiry.pk}:{int(NOW.timestamp())}", later) == JobState.DONE
    message = Message.objects.filter(inquiry=inquiry, kind="outbound").latest("id")
    assert words in message.body and inquiry.reference in message.body
    with translation.override(language):  # the sign-off in the customer's language too
        team = gettext("Kind regards,\nCustomer fulfillment team").rpartition("\n")[2]
    assert message.body.rstrip().endswith(team)
    assert message.author_name == "automatic update"
    (event,) = events_of(inquiry, EventType.UPDATE_SENT)
    assert (event.message_id, event.details["template"]) == (message.pk, "Still working on it")
    assert events_of(inquiry, EventType.MESSAGE_OUT)[-1].details["template"] == "Still working on it"
    assert inquiry.customer.email in [m.to[0] for m in mail.outbox]
    # the update ended the silence: the next one comes 48 hours after it, not before
    assert Inquiry.objects.get(pk=inquiry.pk).last_outbound_at == later
    quiet_jobs = Job.objects.filter(kind="inquiries.quiet_update")
    sweep(later + 47 * HOUR)
    assert quiet_jobs.count() == 1
    sweep(later + 48 * HOUR)
    assert quiet_jobs.count() == 2


def test_a_language_without_a_template_falls_back_to_english(rep):
    policy(quiet_hours=48, quiet_update=UpdateMode.AUTO)
    ResponseTemplate.objects.filter(name="Still working on it", language="bn").delete()
    inquiry = _answered(rep, "bn")
    sweep(NOW + 48 * HOUR)
    run(f"quiet:{inquiry.pk}:{int(NOW.timestamp())}", NOW + 48 * HOUR)
    message = Message.objects.filter(inquiry=inquiry, kind="outbound").latest("id")
    assert "still working on your inquiry" in message.body


def test_auto_never_gives_the_first_response_it_proposes_instead(quiet, rep):
    """Nobody has answered yet: an automatic update would stop the first-response clock, so the
    rep is asked to write instead."""
    policy(quiet_hours=48, quiet_update=UpdateMode.AUTO)
    sweep(NOW + 48 * HOUR)
    run(f"quiet:{quiet.pk}:{int(quiet.created_at.timestamp())}", NOW + 48 * HOUR)
    assert not Message.objects.filter(inquiry=quiet, kind="outbound").exists()
    assert len(events_of(quiet, EventType.UPDATE_PROPOSED)) == 1
    assert Inquiry.objects.get(pk=quiet.pk).first_response_at is None


def test_a_reply_before_the_job_runs_leaves_nothing_to_do(quiet, rep):
    policy(quiet_hours=48, quiet_update=UpdateMode.REMIND)
    sweep(NOW + 48 * HOUR)
    with clock.frozen(NOW + 48 * HOUR):
        services.reply_send(actor=rep, inquiry=quiet, body="Here is the news.")
    assert run(f"quiet:{quiet.pk}:{int(quiet.created_at.timestamp())}", NOW + 48 * HOUR) == JobState.DONE
    assert notices(rep) == [] and events_of(quiet, EventType.UPDATE_PROPOSED) == []


def test_a_call_that_reached_the_customer_ends_the_silence_and_one_that_did_not_does_not(quiet, rep):
    policy(quiet_hours=48, quiet_update=UpdateMode.REMIND)
    with clock.frozen(NOW + 40 * HOUR):
        services.call_log(actor=rep, inquiry=quiet, direction=CallDirection.OUTBOUND, outcome=CallOutcome.NO_ANSWER)
    sweep(NOW + 48 * HOUR)  # nobody spoke to them: still silent since the opening
    assert Job.objects.filter(key=f"quiet:{quiet.pk}:{int(quiet.created_at.timestamp())}").exists()
    with clock.frozen(NOW + 48 * HOUR):  # spoken to before the job ran: nothing to do
        services.call_log(actor=rep, inquiry=quiet, direction=CallDirection.OUTBOUND, outcome=CallOutcome.INFO_GIVEN)
    assert run(f"quiet:{quiet.pk}:{int(quiet.created_at.timestamp())}", NOW + 48 * HOUR) == JobState.DONE
    assert notices(rep) == [] and events_of(quiet, EventType.UPDATE_PROPOSED) == []
    quiet_jobs = Job.objects.filter(kind="inquiries.quiet_update")
    sweep(NOW + 95 * HOUR)  # the next silence counts from the call
    assert quiet_jobs.count() == 1
    sweep(NOW + 96 * HOUR)
    assert quiet_jobs.latest("id").key == f"quiet:{quiet.pk}:{int((NOW + 48 * HOUR).timestamp())}"


@pytest.mark.parametrize("fields", [{"quiet_hours": 0}, {"quiet_update": UpdateMode.OFF}])
def test_quiet_updates_switched_off_schedule_nothing(quiet, fields):
    policy(**{"quiet_hours": 48, "quiet_update": UpdateMode.REMIND, **fields})
    assert sweep(NOW + 100 * HOUR) == 0
    assert not Job.objects.filter(kind="inquiries.quiet_update").exists()


def test_resolved_inquiries_are_not_quiet(quiet, rep):
    policy(quiet_hours=48, quiet_update=UpdateMode.REMIND)
    with clock.frozen(NOW + HOUR):
        services.inquiry_set_status(actor=rep, inquiry=quiet, status=InquiryStatus.RESOLVED)
    assert sweep(NOW + 100 * HOUR) == 0


def test_the_sweep_takes_at_most_a_batch_longest_silent_first(rep):
    policy(quiet_hours=1, quiet_update=UpdateMode.REMIND)
    made = []
    for i in range(4):
        with clock.frozen(NOW + i * dt.timedelta(minutes=1)):
            made.append(InquiryFactory())
    with clock.frozen(NOW + 2 * HOUR):
        assert reminders.schedule_quiet_updates(now=NOW + 2 * HOUR, limit=3) == 3
    scheduled = set(Job.objects.filter(kind="inquiries.quiet_update").values_list("payload__inquiry", flat=True))
    assert scheduled == {made[0].pk, made[1].pk, made[2].pk}
    with clock.frozen(NOW + 2 * HOUR):
        assert reminders.schedule_quiet_updates(now=NOW + 2 * HOUR, limit=3) == 1  # the next sweep goes on


# --- service targets at their warning share ------------------------------------------------------


@pytest.fixture
def warned(rep):
    """An assigned inquiry opened at NOW, with its first-response target running."""
    with clock.frozen(NOW):
        inquiry = InquiryFactory(assignee=rep)
    assert inquiry.warn_at is not None and inquiry.warn_at < inquiry.due_at
    return inquiry


def _warn_key(inquiry) -> str:
    return f"warn:{inquiry.pk}:{inquiry.due_kind}:{int(inquiry.due_at.timestamp())}"


def test_a_target_warning_tells_the_assignee_once(warned, rep):
    before = warned.warn_at - dt.timedelta(seconds=1)
    assert sweep(before) == 0
    assert sweep(warned.warn_at) == 1
    assert sweep(warned.warn_at + HOUR / 4) == 0
    job = Job.objects.get(kind="inquiries.target_warning")
    assert job.key == _warn_key(warned)
    assert run(job.key, warned.warn_at) == JobState.DONE
    (notice,) = notices(rep, "warn:")
    assert notice.title.startswith(f"{warned.reference}: First response due at ")
    assert notice.title.endswith("75 % of the time used")
    (event,) = events_of(warned, EventType.TARGET_WARNING)
    assert event.details["due_kind"] == "first_response" and event.details["told"] == ["rep1"]


def test_an_unassigned_inquiry_gets_no_warning(rep):
    with clock.frozen(NOW):
        inquiry = InquiryFactory()
    assert sweep(inquiry.warn_at) == 0


def test_a_warning_for_a_deadline_that_moved_does_nothing(warned, rep):
    sweep(warned.warn_at)
    with clock.frozen(warned.warn_at):
        services.reply_send(actor=rep, inquiry=warned, body="On it.")  # the first response: that target is met
    run(_warn_key(warned), warned.warn_at)
    assert notices(rep) == [] and events_of(warned, EventType.TARGET_WARNING) == []


def test_a_breach_after_the_warning_reaches_the_escalation_rule(warned):
    rule = EscalationRule.objects.get(trigger=Trigger.FIRST_RESPONSE_BREACHED)
    sweep(warned.warn_at)
    run(_warn_key(warned), warned.warn_at)
    # past the deadline: no second warning, and the breach is the rule's
    assert sweep(warned.due_at) == 0
    since = warned.due_at + dt.timedelta(minutes=rule.grace_minutes)
    assert auto.Breach(warned.pk, "first_response") in auto.breaches(rule, now=since)
