"""Automatic escalation, one test per rule: each trigger fires when its condition holds and not
a moment before (grace honoured, on a frozen clock); a breach fires ONCE however many sweeps see
it, and a reopened inquiry is a new cycle; a rule moves one tier up to its highest tier, where
it only records and tells the supervisors; inactive rules never fire; every automatic move
records its rule. The sweep task run twice has one effect."""

from __future__ import annotations

import datetime as dt

import pytest

from escalation.enums import Kind, Reason, Trigger
from escalation.models import Escalation, EscalationRule, RuleFiring
from escalation.services import auto
from escalation.tasks import sweep_escalation_rules
from fulfillment import clock
from fulfillment.actors import Actor, ActorKind
from fulfillment.tiers import Tier
from inquiries import services as inquiry_services
from inquiries.enums import CallDirection, CallOutcome, Category, Channel, EventType, InquiryStatus, Priority
from tests.inquiries.factories import InquiryFactory
from tests.inquiries.helpers import fresh, last_event

from .test_ladder import T0, escalate

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("tests")
SECOND = dt.timedelta(seconds=1)
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)


def rule(trigger: str, **kwargs) -> EscalationRule:
    return EscalationRule.objects.create(name=kwargs.pop("name", f"rule {trigger}"), trigger=trigger, **kwargs)


def sweep(at: dt.datetime, **kwargs) -> list[RuleFiring]:
    with clock.frozen(at):
        return auto.apply_rules(**kwargs)


def urgent(**kwargs):
    """An urgent inquiry opened at T0 (Monday 09:00): first response due 10:00, resolution 17:00."""
    with clock.frozen(T0):
        inquiry = InquiryFactory(priority=Priority.URGENT, **kwargs)
    assert (inquiry.response_due_at, inquiry.resolve_due_at) == (T0 + HOUR, T0 + 8 * HOUR)
    return inquiry


def at(when: dt.datetime, call):
    with clock.frozen(when):
        return call()


def contact(inquiry, when: dt.datetime, how: str = "message") -> None:
    """The customer writes (or calls) again."""
    if how == "message":
        at(
            when,
            lambda: inquiry_services.message_receive(
                actor=SYSTEM, inquiry=inquiry, body="Any news?", channel=Channel.EMAIL
            ),
        )
    else:
        at(
            when,
            lambda: inquiry_services.call_log(
                actor=SYSTEM, inquiry=inquiry, direction=CallDirection.INBOUND, outcome=CallOutcome.NO_ANSWER
            ),
        )


def resolve_and_reopen(inquiry, resolved: dt.datetime, reopened: dt.datetime) -> None:
    at(
        resolved,
        lambda: inquiry_services.inquiry_set_status(actor=SYSTEM, inquiry=inquiry, status=InquiryStatus.RESOLVED),
    )
    contact(inquiry, reopened)  # the customer writes again: reopened, a new cycle
    assert (fresh(inquiry).status, fresh(inquiry).reopen_count) == (InquiryStatus.OPEN, 1)


# --- first response ------------------------------------------------------------------------------


def test_a_breached_first_response_escalates_one_tier_and_records_the_rule(rep):
    inquiry = urgent(assignee=rep)
    fr = rule(Trigger.FIRST_RESPONSE_BREACHED, name="No answer within target")

    assert sweep(T0 + HOUR - SECOND) == []
    [firing] = sweep(T0 + HOUR)

    e = firing.escalation
    assert (firing.rule, firing.inquiry_id, firing.key, firing.moved, firing.fired_at) == (
        fr,
        inquiry.pk,
        "first_response",
        True,
        T0 + HOUR,
    )
    assert (e.kind, e.reason, e.rule, e.from_tier, e.to_tier, e.from_user, e.from_assignee) == (
        Kind.AUTOMATIC,
        Reason.AUTOMATIC,
        fr,
        Tier.REP,
        Tier.SENIOR_REP,
        None,
        rep,
    )
    assert (e.actor_kind, e.actor_name, e.reason_text) == (
        ActorKind.SYSTEM,
        "rule: No answer within target",
        "Rule “No answer within target”: First-response target breached.",
    )
    assert (fresh(inquiry).tier, fresh(inquiry).assignee) == (Tier.SENIOR_REP, None)
    event = last_event(inquiry)
    assert (event.type, event.actor_kind, event.details["rule"], event.details["to_tier"]) == (
        EventType.ESCALATED,
        ActorKind.SYSTEM,
        "No answer within target",
        Tier.SENIOR_REP,
    )


@pytest.mark.parametrize("grace", [1, 15, 90])
def test_a_rule_waits_its_grace_minutes_after_the_breach(grace):
    inquiry = urgent()
    rule(Trigger.FIRST_RESPONSE_BREACHED, grace_minutes=grace)
    assert sweep(T0 + HOUR + grace * MINUTE - SECOND) == []
    assert [f.inquiry_id for f in sweep(T0 + HOUR + grace * MINUTE)] == [inquiry.pk]


def test_an_inquiry_answered_in_time_never_fires(rep):
    inquiry = urgent(assignee=rep)
    rule(Trigger.FIRST_RESPONSE_BREACHED)
    at(T0 + 30 * MINUTE, lambda: inquiry_services.reply_send(actor=rep, inquiry=inquiry, body="On it."))
    assert sweep(T0 + 5 * HOUR) == []
    assert not Escalation.objects.filter(inquiry=inquiry).exists()


def test_a_breach_fires_once_however_many_sweeps_see_it():
    inquiry = urgent()
    rule(Trigger.FIRST_RESPONSE_BREACHED)
    fired = [sweep(T0 + HOUR + n * MINUTE) for n in range(3)]
    assert [len(f) for f in fired] == [1, 0, 0]
    assert Escalation.objects.filter(inquiry=inquiry).count() == 1
    assert RuleFiring.objects.filter(inquiry=inquiry).count() == 1
    assert fresh(inquiry).tier == Tier.SENIOR_REP


def test_fire_twice_for_the_same_breach_records_it_once():
    inquiry = urgent()
    fr = rule(Trigger.FIRST_RESPONSE_BREACHED)
    breach = auto.Breach(inquiry.pk, "first_response")
    with clock.frozen(T0 + HOUR):
        assert auto.fire(fr, breach) is not None
        assert auto.fire(fr, breach) is None
    assert (RuleFiring.objects.count(), fresh(inquiry).tier) == (1, Tier.SENIOR_REP)


def test_no_breach_is_left_behind_by_those_fired_before_it():
    """Each sweep fires a bounded batch; breaches fired long ago (still breached) never fill
    the batch, so every breach is reached in turn."""
    inquiries = [urgent() for _ in range(6)]
    rule(Trigger.RESOLUTION_BREACHED)
    fired = [sweep(T0 + 8 * HOUR + n * MINUTE, limit=1) for n in range(7)]
    assert [len(f) for f in fired] == [1, 1, 1, 1, 1, 1, 0]
    assert sorted(f[0].inquiry_id for f in fired if f) == [i.pk for i in inquiries]


# --- resolution ------------------------------------------------------------------------------------


def test_a_breached_resolution_fires_once_per_cycle():
    inquiry = urgent(category=Category.BILLING)
    rule(Trigger.RESOLUTION_BREACHED)
    assert sweep(T0 + 8 * HOUR - SECOND) == []
    [first] = sweep(T0 + 8 * HOUR)
    assert (first.key, fresh(inquiry).tier) == ("resolution:0", Tier.SENIOR_REP)
    assert sweep(T0 + 9 * HOUR) == []

    # resolved late on Monday, reopened on Tuesday: the new cycle carries the business time
    # already used (R21), so it is breached from the start — and fires once more, one tier up
    resolve_and_reopen(inquiry, T0 + 8 * HOUR + 30 * MINUTE, T0 + 25 * HOUR)
    assert fresh(inquiry).resolve_due_at <= T0 + 25 * HOUR
    [second] = sweep(T0 + 25 * HOUR)
    assert (second.key, fresh(inquiry).tier, second.escalation.specialty) == (
        "resolution:1",
        Tier.SPECIALIST,
        "billing",
    )
    assert sweep(T0 + 26 * HOUR) == []


def test_a_reopened_cycle_fires_at_its_own_deadline():
    inquiry = urgent()
    rule(Trigger.RESOLUTION_BREACHED)
    resolve_and_reopen(inquiry, T0 + 2 * HOUR, T0 + 4 * HOUR)  # 2 of 8 business hours used
    assert fresh(inquiry).resolve_due_at == T0 + 26 * HOUR  # 13:00-17:00 Monday, then 09:00-11:00
    assert sweep(T0 + 26 * HOUR - SECOND) == []
    assert [f.key for f in sweep(T0 + 26 * HOUR)] == ["resolution:1"]


def test_a_resolved_inquiry_does_not_fire():
    inquiry = urgent()
    rule(Trigger.RESOLUTION_BREACHED)
    at(T0, lambda: inquiry_services.inquiry_set_status(actor=SYSTEM, inquiry=inquiry, status=InquiryStatus.RESOLVED))
    assert sweep(T0 + 48 * HOUR) == []


# --- missed callbacks ----------------------------------------------------------------------------


def promise_callback(rep, inquiry, due: dt.datetime):
    return at(
        T0,
        lambda: inquiry_services.callback_promise(actor=rep, inquiry=inquiry, due_at=due, note="Call at noon"),
    )


def test_a_missed_callback_fires_after_the_grace_once_per_callback(rep):
    inquiry = urgent(assignee=rep)
    first = promise_callback(rep, inquiry, T0 + 3 * HOUR)
    second = promise_callback(rep, inquiry, T0 + 5 * HOUR)
    rule(Trigger.CALLBACK_MISSED, grace_minutes=15)

    assert sweep(T0 + 3 * HOUR + 15 * MINUTE - SECOND) == []
    [fired] = sweep(T0 + 3 * HOUR + 15 * MINUTE)
    assert (fired.key, fresh(inquiry).tier) == (f"callback:{first.pk}", Tier.SENIOR_REP)
    assert sweep(T0 + 4 * HOUR) == []
    [again] = sweep(T0 + 5 * HOUR + 15 * MINUTE)
    assert (again.key, fresh(inquiry).tier) == (f"callback:{second.pk}", Tier.SPECIALIST)


@pytest.mark.parametrize("cancelled", [False, True])
def test_a_callback_done_or_cancelled_in_time_does_not_fire(rep, cancelled):
    inquiry = urgent(assignee=rep)
    callback = promise_callback(rep, inquiry, T0 + 3 * HOUR)
    rule(Trigger.CALLBACK_MISSED)
    at(
        T0 + 2 * HOUR,
        lambda: inquiry_services.callback_complete(actor=rep, callback=callback, cancelled=cancelled),
    )
    assert sweep(T0 + 6 * HOUR) == []


# --- repeated contacts -------------------------------------------------------------------------


def test_repeated_contacts_fire_at_the_threshold_counting_messages_and_calls(rep):
    inquiry = urgent(assignee=rep)  # its first message is contact 1
    rule(Trigger.REPEAT_CONTACTS, contacts=3)
    at(T0 + MINUTE, lambda: inquiry_services.reply_send(actor=rep, inquiry=inquiry, body="Looking into it"))
    contact(inquiry, T0 + 2 * MINUTE)
    assert sweep(T0 + 3 * MINUTE) == []  # two from the customer; the reply does not count
    contact(inquiry, T0 + 4 * MINUTE, how="call")
    [fired] = sweep(T0 + 5 * MINUTE)
    assert (fired.key, fresh(inquiry).tier) == ("contacts:0", Tier.SENIOR_REP)
    contact(inquiry, T0 + 6 * MINUTE)
    assert sweep(T0 + 7 * MINUTE) == []  # the same cycle: fired already


def test_repeated_contacts_count_again_from_the_resolution(rep):
    inquiry = urgent(assignee=rep)
    rule(Trigger.REPEAT_CONTACTS, contacts=3)
    contact(inquiry, T0 + MINUTE)
    contact(inquiry, T0 + 2 * MINUTE)
    assert [f.key for f in sweep(T0 + 3 * MINUTE)] == ["contacts:0"]

    resolve_and_reopen(inquiry, T0 + HOUR, T0 + 2 * HOUR)  # the reopening message: contact 1
    assert sweep(T0 + 2 * HOUR + MINUTE) == []
    contact(inquiry, T0 + 3 * HOUR)
    assert sweep(T0 + 3 * HOUR + MINUTE) == []
    contact(inquiry, T0 + 4 * HOUR, how="call")
    assert [f.key for f in sweep(T0 + 4 * HOUR + MINUTE)] == ["contacts:1"]


# --- how far a rule moves ----------------------------------------------------------------------


def test_a_rule_moves_up_to_its_highest_tier_and_there_only_records_and_notifies(
    django_capture_on_commit_callbacks,
):
    below, top, above = urgent(), urgent(tier=Tier.SENIOR_REP), urgent(tier=Tier.SPECIALIST)
    rule(Trigger.FIRST_RESPONSE_BREACHED, up_to_tier=Tier.SENIOR_REP)

    with django_capture_on_commit_callbacks() as enqueued:
        fired = {f.inquiry_id: f for f in sweep(T0 + HOUR)}

    assert set(fired) == {below.pk, top.pk}  # nothing at all above the highest tier
    assert (fresh(above).tier, fresh(above).version) == (Tier.SPECIALIST, above.version)
    assert (fired[below.pk].moved, fresh(below).tier) == (True, Tier.SENIOR_REP)
    assert (fired[top.pk].moved, fired[top.pk].escalation, fresh(top).tier) == (False, None, Tier.SENIOR_REP)
    assert fresh(top).version == top.version and not Escalation.objects.filter(inquiry=top).exists()
    assert len(enqueued) == 2  # the escalation's notice and the supervisors' notice
    assert sweep(T0 + 2 * HOUR) == []


def test_at_the_top_of_the_ladder_a_rule_only_records():
    inquiry = urgent(tier=Tier.SUPERVISOR)
    rule(Trigger.FIRST_RESPONSE_BREACHED)
    [fired] = sweep(T0 + HOUR)
    assert (fired.moved, fresh(inquiry).tier, fresh(inquiry).version) == (False, Tier.SUPERVISOR, inquiry.version)


def test_an_inquiry_that_moved_above_the_rules_tier_meanwhile_is_left_alone(senior):
    inquiry = urgent(tier=Tier.SENIOR_REP)
    fr = rule(Trigger.FIRST_RESPONSE_BREACHED, up_to_tier=Tier.SENIOR_REP)
    [breach] = auto.breaches(fr, now=T0 + HOUR)
    escalate(senior, inquiry)  # by hand, between the sweep's list and its firing
    assert auto.fire(fr, breach, now=T0 + HOUR) is None
    assert not RuleFiring.objects.exists()


def test_a_rule_sends_an_inquiry_without_a_specialty_to_every_specialist():
    """A person must choose a specialty when the category names none; a rule cannot, and the
    sweep must not stop on it: the inquiry goes to the specialist tier as a whole."""
    inquiry = urgent(tier=Tier.SENIOR_REP, category=Category.COMPLAINT)
    rule(Trigger.FIRST_RESPONSE_BREACHED)
    [fired] = sweep(T0 + HOUR)
    assert (fresh(inquiry).tier, fired.escalation.specialty, fresh(inquiry).specialty_needed) == (
        Tier.SPECIALIST,
        "",
        "",
    )


def test_an_inactive_rule_never_fires():
    inquiry = urgent()
    rule(Trigger.FIRST_RESPONSE_BREACHED, active=False)
    rule(Trigger.RESOLUTION_BREACHED, active=False)
    assert sweep(T0 + 48 * HOUR) == []
    assert (RuleFiring.objects.count(), fresh(inquiry).tier) == (0, Tier.REP)


def test_the_shipped_example_rules_are_switched_off():
    examples = EscalationRule.objects.filter(
        name__in=[
            "First response breached",
            "Resolution breached",
            "Callback missed by 15 minutes",
            "Three contacts without resolution",
        ]
    )
    assert not examples.filter(active=True).exists()


# --- the sweep task ------------------------------------------------------------------------------


def test_the_sweep_task_run_twice_has_one_effect():
    inquiry = urgent()
    rule(Trigger.FIRST_RESPONSE_BREACHED)
    with clock.frozen(T0 + HOUR):
        assert (sweep_escalation_rules(), sweep_escalation_rules()) == (1, 0)
    assert Escalation.objects.filter(inquiry=inquiry).count() == 1
    assert fresh(inquiry).tier == Tier.SENIOR_REP
