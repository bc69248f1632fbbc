"""seed_demo_escalations: refused under production settings and without the demo it builds on;
otherwise it switches on the example rules and leaves each queue something to show, through the
services (every move is on the timeline); a second run adds and changes nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from escalation import selectors
from escalation.enums import Outcome, Reason
from escalation.management.commands.seed_demo_escalations import COACHING, EXAMPLE_RULES, TAG
from escalation.models import Escalation, EscalationRule, RuleFiring
from fulfillment.tiers import Specialty, Tier
from inquiries.enums import EventType, MessageKind, RemedyKind, RemedyState
from inquiries.models import AuthorityLimit, Inquiry, InquiryEvent, Message, Remedy
from orders.models import Payment

pytestmark = pytest.mark.django_db

FORCE = "--i-know-this-is-not-production"
TABLES = (Inquiry, InquiryEvent, Message, Escalation, Remedy, EscalationRule, RuleFiring, Payment)


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    call_command("seed_demo", "--customers", "4")
    call_command("seed_demo_inquiries")
    return {u.username: u for u in get_user_model().objects.all()}


def rows() -> dict:
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in TABLES}


def limit(tier: int, field: str):
    return getattr(AuthorityLimit.objects.get(tier=tier), field)


def nothing_seeded() -> bool:
    return not Inquiry.objects.filter(tags__name=TAG).exists() and not EscalationRule.objects.filter(active=True)


def test_it_is_refused_under_production_settings(demo, settings):
    settings.DEBUG = False
    before = rows()
    with pytest.raises(CommandError, match="refused under production settings"):
        call_command("seed_demo_escalations")
    assert rows() == before
    assert nothing_seeded()


def test_it_runs_under_production_settings_when_told_it_is_not_production(demo, settings):
    settings.DEBUG = False
    call_command("seed_demo_escalations", FORCE)
    assert Inquiry.objects.filter(tags__name=TAG).count() == 6


def test_it_needs_the_demo_staff_first(settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="Run seed_demo first"):
        call_command("seed_demo_escalations")
    assert nothing_seeded()


def test_it_needs_the_demo_inquiries_first(settings):
    settings.DEBUG = True
    call_command("seed_demo", "--customers", "2")
    with pytest.raises(CommandError, match="Run seed_demo_inquiries first"):
        call_command("seed_demo_escalations")
    assert nothing_seeded()


def test_it_fills_every_queue_and_a_second_run_adds_nothing(demo):
    call_command("seed_demo_escalations")
    first = rows()

    call_command("seed_demo_escalations")

    assert rows() == first
    users = demo
    assert set(EscalationRule.objects.filter(active=True).values_list("name", flat=True)) == set(EXAMPLE_RULES)
    assert len(EXAMPLE_RULES) == 5
    assert Escalation.objects.count() == 5
    assert Remedy.objects.filter(state=RemedyState.PENDING_APPROVAL).count() == 2

    # rep1 → senior reps, the customer told: waiting in senior1's review queue
    senior_queue = selectors.review_queue(actor=users["senior1"]).items
    assert [i.subject for i in senior_queue] == ["Third delivery date missed: wants someone senior"]
    waiting = senior_queue[0].open_escalation
    assert (waiting.from_tier, waiting.to_tier, waiting.reason, waiting.customer_told) == (
        Tier.REP,
        Tier.SENIOR_REP,
        Reason.CUSTOMER_ASKED,
        True,
    )
    notice = Message.objects.filter(inquiry=senior_queue[0], kind=MessageKind.OUTBOUND).order_by("pk").last()
    assert senior_queue[0].reference in notice.body

    # rep2 → supervisor, skipping two tiers with a reason: in supervisor1's queue
    supervisor_queue = selectors.review_queue(actor=users["supervisor1"]).items
    assert [i.subject for i in supervisor_queue] == ["Company account threatens to leave"]
    skipped = supervisor_queue[0].open_escalation
    assert (skipped.from_tier, skipped.to_tier, skipped.from_user) == (Tier.REP, Tier.SUPERVISOR, users["rep2"])
    assert skipped.skip_reason

    # rep2 → senior rep (taken over by senior1) → billing specialists: in specialist1's queue
    specialist_queue = selectors.review_queue(actor=users["specialist1"]).items
    assert [i.subject for i in specialist_queue] == ["Charged in the wrong currency"]
    climbed = list(Escalation.objects.filter(inquiry=specialist_queue[0]).order_by("pk"))
    assert [(e.from_tier, e.to_tier, e.outcome) for e in climbed] == [
        (Tier.REP, Tier.SENIOR_REP, Outcome.ESCALATED_FURTHER),
        (Tier.SENIOR_REP, Tier.SPECIALIST, ""),
    ]
    assert (climbed[0].taken_by, climbed[1].specialty, climbed[1].from_user) == (
        users["senior1"],
        Specialty.BILLING,
        users["senior1"],
    )
    assert climbed[0].seconds_at_tier > 0  # the demo is spread over a few hours

    # rep1 → senior rep → back to rep1 with a coaching note
    [coached] = selectors.coaching_for(users["rep1"])
    assert (coached.outcome, coached.coaching_note, coached.coach) == (Outcome.RETURNED, COACHING, users["senior1"])
    assert coached.inquiry.tier == Tier.REP and coached.inquiry.assignee == users["rep1"]

    # approval requests: rep1's refund for a senior rep, senior1's credit for a specialist
    asked = {}
    for approver, kind, proposer, tier, above in (
        ("senior1", RemedyKind.REFUND, "rep1", Tier.SENIOR_REP, limit(Tier.REP, "max_refund")),
        ("specialist1", RemedyKind.CREDIT, "senior1", Tier.SPECIALIST, limit(Tier.SENIOR_REP, "max_credit")),
    ):
        # each approver's list holds the requests of their tier and below: the one for them first
        [request] = [r for r in selectors.pending_approvals(actor=users[approver]) if r.approval_tier == tier]
        assert (request.kind, request.proposed_by, request.approval_tier) == (kind, users[proposer], tier)
        assert request.amount > above
        asked[kind] = request
    refund = asked[RemedyKind.REFUND]
    assert refund.order.paid_amount - refund.order.refunded_amount >= refund.amount
    assert refund.inquiry.orders.filter(pk=refund.order_id).exists()

    # every move went through the services: it is on the inquiries' timelines
    events = InquiryEvent.objects.filter(inquiry__tags__name=TAG)
    assert events.filter(type=EventType.ESCALATED).count() == 5
    assert events.filter(type=EventType.TAKEN_OVER).count() == 1
    assert events.filter(type=EventType.RETURNED).count() == 1
    assert events.filter(type=EventType.APPROVAL_REQUESTED).count() == 2
