"""The "Follow-up call missed" rule: a follow-up call whose window passed uncalled fires the rule
once (after its grace), never moves the resolved inquiry up the ladder, tells the supervisors
what was missed, and stops mattering once the call is logged late. Injected clock throughout."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from escalation.enums import Trigger
from escalation.models import Escalation, EscalationRule, RuleFiring
from escalation.services import auto, notify
from fulfillment import clock, scheduling
from fulfillment.models import Job, Notification
from fulfillment.tiers import Tier
from inquiries import services as inquiry_services
from inquiries.enums import FollowUpOutcome, FollowUpState, InquiryStatus
from inquiries.models import FollowUpCall
from inquiries.services import followups
from tests.factories import UserFactory
from tests.inquiries.factories import InquiryFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2031, 3, 4, 10, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
#: resolved at T0 (delivery / normal): due a day later, missed at the end of the 24-hour window
MISSED_AT = T0 + 48 * HOUR


@pytest.fixture
def rule():
    EscalationRule.objects.filter(trigger=Trigger.FOLLOW_UP_MISSED).update(active=True, grace_minutes=30)
    return EscalationRule.objects.get(trigger=Trigger.FOLLOW_UP_MISSED)


def _run_jobs(call: FollowUpCall, at: dt.datetime) -> None:
    ids = list(Job.objects.filter(payload__call=call.pk).values_list("id", flat=True))
    with clock.frozen(at):
        for pk in scheduling.claim_due(now=at, ids=ids):
            scheduling.run_job(pk)


def _missed(rep, **kwargs) -> FollowUpCall:
    with clock.frozen(T0 - HOUR):
        inquiry = InquiryFactory(assignee=rep, **kwargs)
    with clock.frozen(T0):
        inquiry_services.inquiry_set_status(actor=rep, inquiry=inquiry, status=InquiryStatus.RESOLVED)
    call = FollowUpCall.objects.get(inquiry=inquiry)
    _run_jobs(call, T0 + 24 * HOUR)
    _run_jobs(call, MISSED_AT)
    call.refresh_from_db()
    assert call.state == FollowUpState.MISSED
    return call


def _sweep(at: dt.datetime):
    with clock.frozen(at):
        return auto.apply_rules()


def test_a_missed_call_fires_once_after_the_grace_and_moves_nothing(rule, rep, django_capture_on_commit_callbacks):
    call = _missed(rep)
    assert _sweep(MISSED_AT + dt.timedelta(minutes=29)) == []  # within the grace
    with django_capture_on_commit_callbacks() as notices:
        fired = _sweep(MISSED_AT + dt.timedelta(minutes=30))
    assert [(f.rule, f.inquiry_id, f.key, f.moved) for f in fired] == [
        (rule, call.inquiry_id, f"follow-up:{call.pk}", False)
    ]
    assert len(notices) == 1  # the firing notice is asked for on commit
    assert _sweep(MISSED_AT + HOUR) == []  # the second sweep finds it fired
    assert RuleFiring.objects.filter(rule=rule).count() == 1
    call.inquiry.refresh_from_db()
    assert (call.inquiry.tier, call.inquiry.status) == (Tier.REP, InquiryStatus.RESOLVED)
    assert not Escalation.objects.exists()


def test_the_supervisors_hear_which_call_was_missed(rule, rep):
    boss = UserFactory(username="boss", tier=Tier.SUPERVISOR)
    call = _missed(rep)
    (firing,) = _sweep(MISSED_AT + HOUR)
    mail.outbox.clear()  # the rep was told when the call came due
    assert notify.send_firing_notice(firing.pk) == 1
    assert notify.send_firing_notice(firing.pk) == 0  # once
    (message,) = mail.outbox
    assert message.to == [boss.email]
    assert call.inquiry.reference in message.subject
    assert "follow-up call" in message.body and rep.username in message.body
    assert "calls-due" in message.body
    assert Notification.objects.filter(recipient=boss, key=f"firing:{firing.pk}").exists()


def test_a_call_logged_late_no_longer_fires(rule, rep, supervisor):
    call = _missed(rep)
    with clock.frozen(MISSED_AT + dt.timedelta(minutes=10)):
        followups.follow_up_log(actor=supervisor, call=call, outcome=FollowUpOutcome.SATISFIED)
    assert _sweep(MISSED_AT + HOUR) == []


def test_the_breach_is_rechecked_when_firing(rule, rep, supervisor):
    call = _missed(rep)
    (breach,) = auto.breaches(rule, now=MISSED_AT + HOUR)
    with clock.frozen(MISSED_AT + dt.timedelta(minutes=40)):  # logged between the list and the firing
        followups.follow_up_log(actor=supervisor, call=call, outcome=FollowUpOutcome.NO_ANSWER)
    assert auto.fire(rule, breach, now=MISSED_AT + HOUR) is None
    assert not RuleFiring.objects.exists()


def test_an_inquiry_above_the_rules_tier_is_left_alone(rule, rep):
    EscalationRule.objects.filter(pk=rule.pk).update(up_to_tier=Tier.REP)
    specialist = UserFactory(username="spec", tier=Tier.SPECIALIST)
    _missed(specialist, tier=Tier.SPECIALIST)
    assert _sweep(MISSED_AT + HOUR) == []


def test_an_inactive_rule_never_fires(rule, rep):
    EscalationRule.objects.filter(pk=rule.pk).update(active=False)
    _missed(rep)
    assert _sweep(MISSED_AT + HOUR) == []
