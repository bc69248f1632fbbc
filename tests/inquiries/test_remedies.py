"""Remedies: which a category offers, how much a tier may grant, the customer's answer, and what
an accepted refund or replacement does to the orders."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fulfillment.actors import Actor
from fulfillment.errors import InvalidInput, PermissionDenied, TransitionNotAllowed
from fulfillment.tiers import Tier
from inquiries import services
from inquiries.enums import (
    CATEGORY_REMEDIES,
    REMEDY_NEEDS_ORDER,
    REMEDY_WITH_AMOUNT,
    Category,
    EventType,
    RemedyKind,
    RemedyState,
)
from inquiries.models import InquiryOrder, Remedy
from orders import services as order_services
from orders.enums import OrderEventType, OrderStatus, PaymentKind
from orders.models import Order, OrderEvent, Payment

from ..factories import UserFactory
from .factories import InquiryFactory, paid_order
from .helpers import events_of, last_event, orders_snapshot, refused

K = RemedyKind
SYSTEM = Actor.system("tests")


@pytest.fixture
def big_order(customer):
    """Paid 5,000.00, enough for every tier's refund limit."""
    return paid_order(customer, "5000.00")


@pytest.fixture
def complaint(customer, big_order):
    """A complaint (every remedy offered) with the big order linked."""
    return InquiryFactory(customer=customer, category=Category.COMPLAINT, orders=[big_order])


def propose(actor, inquiry, kind=K.REFUND, amount="10.00", **kwargs) -> Remedy:
    order = inquiry.orders.first() if kind in REMEDY_NEEDS_ORDER else None
    data = {"reason": "Parcel lost", "amount": amount if kind in REMEDY_WITH_AMOUNT else None, "order": order}
    return services.remedy_propose(actor=actor, inquiry=inquiry, kind=kind, **(data | kwargs))


def decide(actor, remedy, state, **kwargs) -> Remedy:
    return services.remedy_decide(actor=actor, remedy=remedy, state=state, **kwargs)


# --- what a category offers ------------------------------------------------------------------------

OFFER_PAIRS = [(category, kind) for category in Category.values for kind in K.values]


@pytest.mark.parametrize(("category", "kind"), OFFER_PAIRS, ids=[f"{c}-{k}" for c, k in OFFER_PAIRS])
def test_only_the_remedies_a_category_offers_can_be_proposed(supervisor, customer, big_order, category, kind):
    inquiry = InquiryFactory(customer=customer, category=category, orders=[big_order])
    if kind in CATEGORY_REMEDIES[category]:
        remedy = propose(supervisor, inquiry, kind)
        assert (remedy.state, remedy.kind, remedy.proposed_by_name) == (RemedyState.PROPOSED, kind, "supervisor1")
        event = last_event(inquiry)
        assert (event.type, event.details["remedy"]) == (EventType.REMEDY_PROPOSED, remedy.pk)
        assert services.offered_kinds(inquiry) == CATEGORY_REMEDIES[category]
    else:
        error = refused(inquiry, InvalidInput, lambda: propose(supervisor, inquiry, kind))
        assert "not offered" in error.field_errors["kind"][0]


def test_an_account_change_offers_information_only():
    assert CATEGORY_REMEDIES[Category.ACCOUNT_CHANGE] == (K.INFORMATION,)
    assert set(CATEGORY_REMEDIES[Category.COMPLAINT]) == set(K.values)


# --- the amount and the order ------------------------------------------------------------------------


def test_a_refund_carries_the_orders_currency_and_amount(rep, complaint, big_order):
    remedy = propose(rep, complaint, K.REFUND, "99.99")
    assert (remedy.amount, remedy.currency, remedy.order) == (Decimal("99.99"), "USD", big_order)
    assert last_event(complaint).details["order"] == big_order.number


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount": None}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "1.005"}, "amount"),
        ({"amount": "ten"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "1e20"}, "amount"),
        ({"order": None}, "order"),
        ({"reason": "  "}, "reason"),
        ({"kind": "voucher"}, "kind"),
    ],
)
def test_a_refund_with_bad_input_is_refused(supervisor, complaint, kwargs, field):
    error = refused(complaint, InvalidInput, lambda: propose(supervisor, complaint, **kwargs))
    assert field in error.field_errors


def test_a_refund_is_never_above_what_was_paid_and_not_yet_refunded(supervisor, customer):
    order = paid_order(customer, "500.00")
    inquiry = InquiryFactory(customer=customer, category=Category.BILLING, orders=[order])
    order_services.order_refund(actor=SYSTEM, order=order, amount=Decimal("200.00"), reason="Earlier")
    error = refused(inquiry, InvalidInput, lambda: propose(supervisor, inquiry, amount="300.01"))
    assert "300.00 USD" in error.field_errors["amount"][0]
    assert propose(supervisor, inquiry, amount="300.00").amount == Decimal("300.00")


def test_an_unpaid_order_cannot_be_refunded(supervisor, customer, order):
    inquiry = InquiryFactory(customer=customer, category=Category.BILLING, orders=[order])
    refused(inquiry, InvalidInput, lambda: propose(supervisor, inquiry, amount="0.01"))


def test_a_remedy_for_an_order_not_linked_is_refused(supervisor, customer, big_order):
    inquiry = InquiryFactory(customer=customer, category=Category.COMPLAINT)
    error = refused(inquiry, InvalidInput, lambda: propose(supervisor, inquiry, K.REPLACEMENT, order=big_order))
    assert "Link the order" in error.field_errors["order"][0]


# --- authority per tier -----------------------------------------------------------------------------

LIMITS = [
    (Tier.REP, K.REFUND, "100.00"),
    (Tier.REP, K.CREDIT, "50.00"),
    (Tier.REP, K.GIFT, "50.00"),
    (Tier.SENIOR_REP, K.REFUND, "500.00"),
    (Tier.SENIOR_REP, K.CREDIT, "200.00"),
    (Tier.SPECIALIST, K.REFUND, "1000.00"),
    (Tier.SPECIALIST, K.GIFT, "500.00"),
]


NEXT_TIER = {Tier.REP: Tier.SENIOR_REP, Tier.SENIOR_REP: Tier.SPECIALIST, Tier.SPECIALIST: Tier.SUPERVISOR}


@pytest.mark.parametrize(("tier", "kind", "limit"), LIMITS, ids=[f"{t.label}-{k}" for t, k, _ in LIMITS])
def test_each_tier_grants_up_to_its_limit_and_asks_approval_above_it(complaint, tier, kind, limit):
    user = UserFactory(tier=tier)
    at = propose(user, complaint, kind, limit)
    assert (at.amount, at.state, at.approval_tier) == (Decimal(limit), RemedyState.PROPOSED, None)
    below = propose(user, complaint, kind, str(Decimal(limit) - Decimal("0.01")))
    assert below.state == RemedyState.PROPOSED
    above = propose(user, complaint, kind, str(Decimal(limit) + Decimal("0.01")))
    assert above.state == RemedyState.PENDING_APPROVAL
    # the lowest tier whose limit allows it: the next one up for a cent over
    assert above.approval_tier == NEXT_TIER[tier]
    assert above.proposed_by == user
    assert last_event(complaint).type == "approval_requested"


@pytest.mark.parametrize("kind", [K.REFUND, K.CREDIT, K.GIFT])
def test_a_supervisor_has_no_limit(supervisor, complaint, kind):
    remedy = propose(supervisor, complaint, kind, "5000.00")
    assert (remedy.amount, remedy.state) == (Decimal("5000.00"), RemedyState.PROPOSED)


@pytest.mark.parametrize("kind", [K.REPLACEMENT, K.EXTRA_HELP, K.INFORMATION])
def test_a_rep_may_offer_the_remedies_without_an_amount(rep, complaint, kind):
    remedy = propose(rep, complaint, kind, amount="999999")
    assert (remedy.amount, remedy.currency, remedy.state) == (None, "", RemedyState.PROPOSED)


def test_check_authority_reads_the_limits_table(rep, supervisor, no_role_user):
    services.check_authority(Actor.for_user(rep), K.REFUND, Decimal("100.00"))
    services.check_authority(Actor.for_user(supervisor), K.REFUND, Decimal("1000000.00"))
    services.check_authority(SYSTEM, K.GIFT, Decimal("1000000.00"))
    with pytest.raises(PermissionDenied, match=r"above your limit of 100\.00"):
        services.check_authority(Actor.for_user(rep), K.REFUND, Decimal("100.01"))
    with pytest.raises(PermissionDenied, match="may not grant"):
        services.check_authority(Actor.for_user(no_role_user), K.REPLACEMENT, None)
    services.check_authority(Actor.for_user(no_role_user), K.INFORMATION, None)


def test_accepting_carries_out_what_the_proposer_was_allowed_to_grant(rep, senior, complaint):
    remedy = propose(senior, complaint, K.CREDIT, "150.00")
    decide(rep, remedy, RemedyState.ACCEPTED)
    assert Remedy.objects.get(pk=remedy.pk).state == RemedyState.ACCEPTED


def test_the_customer_cannot_accept_a_request_still_waiting_for_approval(rep, complaint):
    remedy = propose(rep, complaint, K.CREDIT, "80.00")
    refused(complaint, TransitionNotAllowed, lambda: decide(rep, remedy, RemedyState.ACCEPTED))
    decide(rep, remedy, RemedyState.WITHDRAWN)
    assert Remedy.objects.get(pk=remedy.pk).state == RemedyState.WITHDRAWN


# --- the customer's answer -----------------------------------------------------------------------------


def test_a_declined_remedy_invites_an_alternative(rep, complaint):
    first = propose(rep, complaint, K.CREDIT, "20.00")
    decide(rep, first, RemedyState.DECLINED, note="Wants money back")
    first.refresh_from_db()
    assert (first.state, first.decision_note) == (RemedyState.DECLINED, "Wants money back")
    assert first.decided_by_name == "rep1"
    assert first.decided_at is not None
    assert last_event(complaint).details["state"] == RemedyState.DECLINED
    second = propose(rep, complaint, K.REFUND, "20.00", alternative_to=first)
    assert second.alternative_to == first
    assert last_event(complaint).details["alternative_to"] == first.pk


@pytest.mark.parametrize("state", [RemedyState.PROPOSED, RemedyState.ACCEPTED, RemedyState.WITHDRAWN])
def test_an_alternative_only_follows_a_declined_remedy(rep, complaint, state):
    first = propose(rep, complaint, K.CREDIT, "20.00")
    if state != RemedyState.PROPOSED:
        decide(rep, first, state)
    error = refused(complaint, InvalidInput, lambda: propose(rep, complaint, K.GIFT, "5.00", alternative_to=first))
    assert "alternative_to" in error.field_errors


def test_an_alternative_to_another_inquirys_remedy_is_refused(rep, customer, complaint):
    other = InquiryFactory(customer=customer, category=Category.COMPLAINT)
    declined = propose(rep, other, K.CREDIT, "20.00")
    decide(rep, declined, RemedyState.DECLINED)
    refused(complaint, InvalidInput, lambda: propose(rep, complaint, K.CREDIT, "5.00", alternative_to=declined))


@pytest.mark.parametrize("decided", [RemedyState.ACCEPTED, RemedyState.DECLINED, RemedyState.WITHDRAWN])
@pytest.mark.parametrize("again", [RemedyState.ACCEPTED, RemedyState.DECLINED, RemedyState.WITHDRAWN])
def test_a_decided_remedy_stays_decided(rep, complaint, decided, again):
    remedy = propose(rep, complaint, K.CREDIT, "20.00")
    decide(rep, remedy, decided)
    error = refused(complaint, TransitionNotAllowed, lambda: decide(rep, remedy, again))
    assert error.allowed == []


def test_an_unknown_answer_is_refused(rep, complaint):
    remedy = propose(rep, complaint, K.CREDIT, "20.00")
    error = refused(
        complaint, TransitionNotAllowed, lambda: services.remedy_decide(actor=rep, remedy=remedy, state="maybe")
    )
    assert error.allowed == sorted([RemedyState.ACCEPTED, RemedyState.DECLINED, RemedyState.WITHDRAWN])


# --- what an accepted remedy does --------------------------------------------------------------------


def test_an_accepted_refund_pays_back_on_the_order_and_shows_on_both_timelines(rep, complaint, big_order):
    remedy = propose(rep, complaint, K.REFUND, "80.00")
    decide(rep, remedy, RemedyState.ACCEPTED, note="Thanks")
    remedy.refresh_from_db()
    payment = Payment.objects.get(order=big_order, kind=PaymentKind.REFUND)
    assert remedy.refund_payment == payment
    assert (payment.amount, payment.reference, payment.actor_name) == (Decimal("80.00"), complaint.reference, "rep1")
    order = Order.objects.get(pk=big_order.pk)
    assert order.refunded_amount == Decimal("80.00")
    order_event = OrderEvent.objects.filter(order=order).order_by("-id").first()
    assert (order_event.type, order_event.details["amount"], order_event.actor_user) == (
        OrderEventType.REFUND_RECORDED,
        "80.00",
        rep,
    )
    decided = last_event(complaint)
    assert decided.type == EventType.REMEDY_DECIDED
    assert decided.details["outcome"] == {"refunded": "80.00", "currency": "USD", "order": big_order.number}


def test_a_refund_accepted_after_another_is_checked_again_against_the_balance(supervisor, customer):
    order = paid_order(customer, "500.00")
    inquiry = InquiryFactory(customer=customer, category=Category.BILLING, orders=[order])
    first, second = propose(supervisor, inquiry, amount="300.00"), propose(supervisor, inquiry, amount="300.00")
    decide(supervisor, first, RemedyState.ACCEPTED)
    refused(
        inquiry,
        InvalidInput,
        lambda: decide(supervisor, second, RemedyState.ACCEPTED),
    )
    assert Order.objects.get(pk=order.pk).refunded_amount == Decimal("300.00")


def test_an_accepted_replacement_is_a_linked_zero_priced_copy_of_the_order(rep, complaint, big_order):
    remedy = propose(rep, complaint, K.REPLACEMENT, description="A new television")
    decide(rep, remedy, RemedyState.ACCEPTED)
    remedy.refresh_from_db()
    replacement = remedy.replacement_order
    assert replacement is not None and replacement != big_order
    assert (replacement.customer, replacement.status, replacement.total, replacement.currency) == (
        big_order.customer,
        OrderStatus.PLACED,
        Decimal("0.00"),
        "USD",
    )
    assert [(line.sku, line.quantity, line.unit_price) for line in replacement.lines.all()] == [
        ("TV-900", 1, Decimal("0.00"))
    ]
    assert replacement.ship_line1 == big_order.ship_line1
    assert InquiryOrder.objects.filter(inquiry=complaint, order=replacement).exists()
    linked = [e.details["number"] for e in events_of(complaint) if e.type == EventType.ORDER_LINKED]
    assert replacement.number in linked  # the new order is on the inquiry's timeline too
    note = OrderEvent.objects.get(order=replacement, type=OrderEventType.NOTE_ADDED)
    assert big_order.number in note.details["text"] and complaint.reference in note.details["text"]
    assert last_event(complaint).details["outcome"] == {"replacement_order": replacement.number}
    assert not Payment.objects.filter(kind=PaymentKind.REFUND).exists()


@pytest.mark.parametrize("state", [RemedyState.DECLINED, RemedyState.WITHDRAWN])
def test_a_declined_or_withdrawn_refund_moves_no_money(rep, complaint, state):
    remedy = propose(rep, complaint, K.REFUND, "50.00")
    orders_before = orders_snapshot()
    decide(rep, remedy, state)
    assert orders_snapshot() == orders_before
    assert [e.type for e in events_of(complaint)][-2:] == [EventType.REMEDY_PROPOSED, EventType.REMEDY_DECIDED]


@pytest.mark.parametrize("kind", [K.CREDIT, K.GIFT])
def test_a_credit_or_gift_without_an_order_is_in_the_desks_currency(rep, complaint, kind, settings):
    settings.FD_DEFAULT_CURRENCY = "INR"
    remedy = propose(rep, complaint, kind, "20.00")
    assert (remedy.order, remedy.amount, remedy.currency) == (None, Decimal("20.00"), "INR")
