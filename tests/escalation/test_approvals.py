"""Authority limits and approval requests, one test per rule: each tier grants at and below its
limit and asks above it; the request goes to the LOWEST tier that may approve it; the table is
read at once; approve carries the remedy out (at the asked or a changed amount), deny needs a
note; nobody approves their own request, below the request's tier, or twice. A refused answer
changes nothing: no payment, no order, no event."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fulfillment import clock
from fulfillment.actors import Actor
from fulfillment.errors import Conflict, InvalidInput, PermissionDenied, TransitionNotAllowed
from fulfillment.tiers import Tier
from inquiries import services
from inquiries.enums import REMEDY_NEEDS_ORDER, REMEDY_WITH_AMOUNT, Category, EventType, RemedyKind, RemedyState
from inquiries.models import AuthorityLimit, InquiryOrder
from orders import services as order_services
from orders.enums import PaymentKind
from orders.models import Order
from tests.factories import UserFactory
from tests.inquiries.factories import InquiryFactory, paid_order
from tests.inquiries.helpers import last_event

from .test_ladder import escalate, refusal

pytestmark = pytest.mark.django_db

K = RemedyKind
S = RemedyState
SYSTEM = Actor.system("tests")
CENT = Decimal("0.01")
T0 = dt.datetime(2031, 3, 3, 11, 30, tzinfo=dt.UTC)

#: Migration 0011's limits: (highest refund, highest credit or gift) per tier.
LIMITS = {
    Tier.REP: (Decimal("100.00"), Decimal("50.00")),
    Tier.SENIOR_REP: (Decimal("500.00"), Decimal("200.00")),
    Tier.SPECIALIST: (Decimal("1000.00"), Decimal("500.00")),
}


@pytest.fixture
def refused(django_capture_on_commit_callbacks):
    return refusal(django_capture_on_commit_callbacks)


@pytest.fixture
def complaint(customer):
    """A complaint (every remedy offered) about an order paid 5,000.00: enough for every tier."""
    return InquiryFactory(customer=customer, category=Category.COMPLAINT, orders=[paid_order(customer, "5000.00")])


@pytest.fixture
def big_order(complaint):
    return complaint.orders.get()


def propose(actor, inquiry, kind=K.REFUND, amount="10.00"):
    return services.remedy_propose(
        actor=actor,
        inquiry=inquiry,
        kind=kind,
        reason="Parcel lost twice",
        amount=amount if kind in REMEDY_WITH_AMOUNT else None,
        order=inquiry.orders.first() if kind in REMEDY_NEEDS_ORDER else None,
    )


def approve(actor, remedy, **kwargs):
    return services.remedy_approve(actor=actor, remedy=remedy, **kwargs)


def deny(actor, remedy, note="Not for a first complaint"):
    return services.remedy_deny(actor=actor, remedy=remedy, note=note)


def limit(tier: int, **values) -> None:
    AuthorityLimit.objects.filter(tier=tier).update(**values)


def name(user) -> str:
    return user.get_full_name()


# --- authority: at, below and above each tier's limit -------------------------------------------

BOUNDARY = [
    (tier, kind, where)
    for tier in LIMITS
    for kind in (K.REFUND, K.CREDIT, K.GIFT)
    for where in ("below", "at", "above")
]


@pytest.mark.parametrize(("tier", "kind", "where"), BOUNDARY, ids=[f"{t}-{k}-{w}" for t, k, w in BOUNDARY])
def test_each_tier_grants_at_and_below_its_limit_and_asks_approval_above_it(complaint, tier, kind, where):
    ceiling = LIMITS[tier][0 if kind == K.REFUND else 1]
    amount = ceiling + {"below": -CENT, "at": Decimal(0), "above": CENT}[where]
    remedy = propose(UserFactory(tier=tier), complaint, kind, amount)
    if where == "above":
        assert (remedy.state, remedy.approval_tier, remedy.amount) == (S.PENDING_APPROVAL, tier + 1, amount)
        event = last_event(complaint)
        assert (event.type, event.details["tier"], event.details["amount"]) == (
            EventType.APPROVAL_REQUESTED,
            tier + 1,
            str(amount),
        )
    else:
        assert (remedy.state, remedy.approval_tier) == (S.PROPOSED, None)
        assert last_event(complaint).type == EventType.REMEDY_PROPOSED


@pytest.mark.parametrize(("kind", "amount"), [(K.REFUND, "5000.00"), (K.CREDIT, "9999.99"), (K.GIFT, "9999.99")])
def test_a_supervisor_has_no_limit(supervisor, complaint, kind, amount):
    assert propose(supervisor, complaint, kind, amount).state == S.PROPOSED


@pytest.mark.parametrize(("kind", "flag"), [(K.REPLACEMENT, "may_replace"), (K.EXTRA_HELP, "may_extra_help")])
def test_a_replacement_or_extra_help_is_granted_where_the_table_allows_it(rep, senior, complaint, kind, flag):
    assert propose(rep, complaint, kind).state == S.PROPOSED
    limit(Tier.REP, **{flag: False})
    assert (propose(rep, complaint, kind).approval_tier, propose(senior, complaint, kind).state) == (
        Tier.SENIOR_REP,
        S.PROPOSED,
    )
    limit(Tier.SENIOR_REP, **{flag: False})
    assert propose(rep, complaint, kind).approval_tier == Tier.SPECIALIST
    assert propose(senior, complaint, kind).approval_tier == Tier.SPECIALIST


def test_information_needs_no_authority(rep, complaint):
    AuthorityLimit.objects.all().delete()
    assert propose(rep, complaint, K.INFORMATION).state == S.PROPOSED


@pytest.mark.parametrize(
    ("kind", "amount", "tier"),
    [
        (K.REFUND, "100.01", Tier.SENIOR_REP),
        (K.REFUND, "500.00", Tier.SENIOR_REP),
        (K.REFUND, "600.00", Tier.SPECIALIST),  # not the senior tier: it may not grant 600.00
        (K.REFUND, "1000.00", Tier.SPECIALIST),
        (K.REFUND, "1000.01", Tier.SUPERVISOR),
        (K.CREDIT, "300.00", Tier.SPECIALIST),
        (K.GIFT, "500.01", Tier.SUPERVISOR),
    ],
)
def test_a_request_goes_to_the_lowest_tier_that_may_grant_it(rep, complaint, kind, amount, tier):
    assert propose(rep, complaint, kind, amount).approval_tier == tier


def test_the_approval_tier_is_a_tier_that_may_approve(senior, complaint):
    """Even when the table lets reps give more than seniors, a senior's request goes up, never
    to the rep tier, which answers no requests."""
    limit(Tier.REP, max_credit=Decimal("300.00"))
    assert propose(senior, complaint, K.CREDIT, "250.00").approval_tier == Tier.SPECIALIST
    AuthorityLimit.objects.filter(tier=Tier.SENIOR_REP).delete()  # a tier without a row grants nothing
    assert propose(senior, complaint, K.CREDIT, "10.00").approval_tier == Tier.SPECIALIST


def test_an_empty_amount_in_the_table_is_no_limit(senior, complaint):
    limit(Tier.SENIOR_REP, max_refund=None)
    assert propose(senior, complaint, K.REFUND, "4999.99").state == S.PROPOSED


def test_a_limit_changed_in_the_table_takes_effect_at_once(rep, complaint):
    assert propose(rep, complaint, K.REFUND, "150.00").state == S.PENDING_APPROVAL
    limit(Tier.REP, max_refund=Decimal("200.00"))
    assert propose(rep, complaint, K.REFUND, "150.00").state == S.PROPOSED
    limit(Tier.REP, max_refund=Decimal("0.00"))
    assert propose(rep, complaint, K.REFUND, "0.01").approval_tier == Tier.SENIOR_REP


def test_an_approvers_limit_changed_since_the_request_applies_to_the_approval(
    rep, senior, specialist, complaint, refused
):
    remedy = propose(rep, complaint, K.REFUND, "400.00")
    limit(Tier.SENIOR_REP, max_refund=Decimal("300.00"))
    error = refused(complaint, PermissionDenied, lambda: approve(senior, remedy))
    assert error.message == "400.00 is above your limit of 300.00 for this remedy."
    assert approve(specialist, remedy).state == S.ACCEPTED


@pytest.mark.parametrize(
    ("change", "kind", "amount"),
    [
        ({"may_replace": False}, K.REPLACEMENT, None),
        ({"may_extra_help": False}, K.EXTRA_HELP, None),
    ],
)
def test_a_remedy_no_tier_may_grant_is_refused_clearly(rep, complaint, refused, change, kind, amount):
    AuthorityLimit.objects.update(**change)
    error = refused(complaint, PermissionDenied, lambda: propose(rep, complaint, kind, amount))
    assert error.message == "No tier may grant this remedy: ask an administrator to set the authority limits."


def test_an_amount_above_every_tiers_limit_is_refused_clearly(rep, complaint, refused):
    limit(Tier.SUPERVISOR, max_refund=Decimal("2000.00"))
    error = refused(complaint, PermissionDenied, lambda: propose(rep, complaint, K.REFUND, "2000.01"))
    assert error.message.startswith("No tier may grant this remedy")
    assert propose(rep, complaint, K.REFUND, "2000.00").approval_tier == Tier.SUPERVISOR


# --- approve: the remedy is carried out ------------------------------------------------------------


def test_approving_a_refund_pays_it_back_on_the_order(rep, senior, complaint, big_order):
    remedy = propose(rep, complaint, K.REFUND, "250.00")
    with clock.frozen(T0):
        done = approve(senior, remedy, note="Lost twice: fair")

    payment = done.refund_payment
    assert (payment.order_id, payment.kind, payment.amount) == (big_order.pk, PaymentKind.REFUND, Decimal("250.00"))
    assert Order.objects.get(pk=big_order.pk).refunded_amount == Decimal("250.00")
    assert (done.state, done.amount, done.requested_amount, done.approved_by) == (
        S.ACCEPTED,
        Decimal("250.00"),
        None,
        senior,
    )
    assert (done.approval_decided_at, done.decided_at, done.approval_note, done.decided_by_name) == (
        T0,
        T0,
        "Lost twice: fair",
        "senior1",
    )
    event = last_event(complaint)
    assert (event.type, event.actor_user) == (EventType.REMEDY_APPROVED, senior)
    assert event.details == {
        "remedy": remedy.pk,
        "kind": "refund",
        "amount": "250.00",
        "asked": "",
        "currency": "USD",
        "note": "Lost twice: fair",
        "outcome": {"refunded": "250.00", "currency": "USD", "order": str(big_order)},
    }


def test_approving_a_replacement_sends_a_free_copy_of_the_order(rep, senior, complaint, big_order):
    limit(Tier.REP, may_replace=False)
    remedy = propose(rep, complaint, K.REPLACEMENT)
    assert remedy.approval_tier == Tier.SENIOR_REP

    done = approve(senior, remedy)

    replacement = done.replacement_order
    assert replacement is not None and replacement.pk != big_order.pk
    assert replacement.customer_id == big_order.customer_id
    assert [(line.sku, line.quantity, line.unit_price) for line in replacement.lines.all()] == [
        (line.sku, line.quantity, Decimal("0.00")) for line in big_order.lines.all()
    ]
    assert InquiryOrder.objects.filter(inquiry=complaint, order=replacement).exists()
    assert last_event(complaint).details["outcome"] == {"replacement_order": str(replacement)}


def test_approving_a_changed_amount_keeps_what_was_asked(rep, senior, complaint, big_order):
    remedy = propose(rep, complaint, K.REFUND, "250.00")
    done = approve(senior, remedy, amount="200.00")
    assert (done.amount, done.requested_amount, done.refund_payment.amount) == (
        Decimal("200.00"),
        Decimal("250.00"),
        Decimal("200.00"),
    )
    assert (last_event(complaint).details["amount"], last_event(complaint).details["asked"]) == ("200.00", "250.00")


def test_approving_the_asked_amount_is_no_change(rep, senior, complaint):
    done = approve(senior, propose(rep, complaint, K.CREDIT, "80.00"), amount="80.00")
    assert (done.amount, done.requested_amount) == (Decimal("80.00"), None)


@pytest.mark.parametrize(("amount", "allowed"), [("499.99", True), ("500.00", True), ("500.01", False)])
def test_a_changed_amount_must_be_within_the_approvers_limit(rep, senior, complaint, refused, amount, allowed):
    remedy = propose(rep, complaint, K.REFUND, "250.00")
    if allowed:
        assert approve(senior, remedy, amount=amount).amount == Decimal(amount)
    else:
        error = refused(complaint, PermissionDenied, lambda: approve(senior, remedy, amount=amount))
        assert error.message == "500.01 is above your limit of 500.00 for this remedy."


@pytest.mark.parametrize(("amount", "allowed"), [("300.00", True), ("300.01", False)])
def test_a_changed_amount_must_be_within_what_can_be_refunded(rep, supervisor, customer, refused, amount, allowed):
    order = paid_order(customer, "300.00")
    inquiry = InquiryFactory(customer=customer, category=Category.BILLING, orders=[order])
    remedy = propose(rep, inquiry, K.REFUND, "250.00")
    if allowed:
        assert approve(supervisor, remedy, amount=amount).refund_payment.amount == Decimal(amount)
    else:
        error = refused(inquiry, InvalidInput, lambda: approve(supervisor, remedy, amount=amount))
        assert error.field_errors == {"amount": ["At most 300.00 USD can be refunded."]}


def test_a_refund_approved_after_the_balance_shrank_is_refused(rep, senior, customer, refused):
    order = paid_order(customer, "300.00")
    inquiry = InquiryFactory(customer=customer, category=Category.BILLING, orders=[order])
    remedy = propose(rep, inquiry, K.REFUND, "250.00")
    order_services.order_refund(actor=SYSTEM, order=order, amount=Decimal("100.00"), reason="Earlier refund")
    error = refused(inquiry, InvalidInput, lambda: approve(senior, remedy))
    assert error.field_errors == {"amount": ["At most 200.00 USD can be refunded."]}
    assert approve(senior, remedy, amount="200.00").refund_payment.amount == Decimal("200.00")


@pytest.mark.parametrize("amount", ["0", "-5", "ten", "1.001", "NaN"])
def test_a_changed_amount_must_be_an_amount(rep, senior, complaint, refused, amount):
    remedy = propose(rep, complaint, K.REFUND, "250.00")
    error = refused(complaint, InvalidInput, lambda: approve(senior, remedy, amount=amount))
    assert list(error.field_errors) == ["amount"]


def test_a_remedy_without_an_amount_cannot_be_approved_with_one(rep, senior, complaint, refused):
    limit(Tier.REP, may_replace=False)
    remedy = propose(rep, complaint, K.REPLACEMENT)
    error = refused(complaint, InvalidInput, lambda: approve(senior, remedy, amount="10.00"))
    assert error.field_errors == {"amount": ["This remedy has no amount."]}


# --- deny ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("note", ["", "   ", None])
def test_denying_needs_a_note(rep, senior, complaint, refused, note):
    remedy = propose(rep, complaint, K.REFUND, "250.00")
    error = refused(complaint, InvalidInput, lambda: deny(senior, remedy, note=note))
    assert list(error.field_errors) == ["note"]


def test_a_denial_carries_its_note_back_to_the_rep_on_the_timeline(rep, senior, complaint, big_order):
    remedy = propose(rep, complaint, K.REFUND, "250.00")
    with clock.frozen(T0):
        done = deny(senior, remedy, note="Offer a 50.00 credit instead")
    assert (done.state, done.approval_note, done.approved_by, done.approval_decided_at) == (
        S.DENIED,
        "Offer a 50.00 credit instead",
        senior,
        T0,
    )
    assert done.refund_payment is None and not big_order.payments.filter(kind=PaymentKind.REFUND).exists()
    event = last_event(complaint)
    assert (event.type, event.actor_user, event.details) == (
        EventType.REMEDY_DENIED,
        senior,
        {
            "remedy": remedy.pk,
            "kind": "refund",
            "amount": "250.00",
            "currency": "USD",
            "note": "Offer a 50.00 credit instead",
        },
    )


# --- who may answer --------------------------------------------------------------------------------


def test_nobody_approves_their_own_request_not_even_a_supervisor(supervisor, specialist, complaint, refused):
    limit(Tier.SUPERVISOR, max_refund=Decimal("600.00"))
    remedy = propose(supervisor, complaint, K.REFUND, "700.00")
    assert (remedy.state, remedy.approval_tier, remedy.proposed_by) == (S.PENDING_APPROVAL, Tier.SPECIALIST, supervisor)
    for answer in (lambda: approve(supervisor, remedy), lambda: deny(supervisor, remedy)):
        error = refused(complaint, PermissionDenied, answer)
        assert error.message == "Nobody approves their own request: another colleague must decide."
    assert approve(specialist, remedy).approved_by == specialist


def test_an_approver_below_the_requests_tier_is_refused(rep, senior, specialist, complaint, refused):
    remedy = propose(rep, complaint, K.REFUND, "600.00")
    for answer in (lambda: approve(senior, remedy), lambda: deny(senior, remedy)):
        error = refused(complaint, PermissionDenied, answer)
        assert error.message == "This request needs the Specialist tier or above."
    assert approve(specialist, remedy).state == S.ACCEPTED


def test_a_higher_tier_may_answer_a_lower_tiers_request(rep, supervisor, complaint):
    assert approve(supervisor, propose(rep, complaint, K.REFUND, "150.00")).approved_by == supervisor


def test_a_rep_answers_no_request(rep, complaint, refused):
    remedy = propose(UserFactory(username="rep2", tier=Tier.REP), complaint, K.REFUND, "150.00")
    error = refused(complaint, PermissionDenied, lambda: approve(rep, remedy))
    assert error.message == "Your role (Rep) may not do this: it needs Senior rep or above."


def test_an_approver_must_work_the_inquirys_tier(rep, senior, complaint, refused):
    remedy = propose(rep, complaint, K.REFUND, "150.00")
    escalate(rep, complaint, to_tier=Tier.SUPERVISOR, skip_reason="Threatens to go to the press")
    error = refused(complaint, PermissionDenied, lambda: approve(senior, remedy))
    assert "you can work inquiries up to your own tier" in error.message


def test_answering_twice_is_a_conflict_naming_who_answered(rep, senior, specialist, complaint, refused):
    approved = approve(senior, propose(rep, complaint, K.REFUND, "150.00"))
    for answer in (lambda: approve(specialist, approved), lambda: deny(specialist, approved)):
        error = refused(complaint, Conflict, answer)
        assert error.message == f"{name(senior)} already answered this request: accepted."
    denied = deny(senior, propose(rep, complaint, K.REFUND, "160.00"))
    error = refused(complaint, Conflict, lambda: approve(specialist, denied))
    assert error.message == f"{name(senior)} already answered this request: not approved."


# --- the customer's answer, withdrawing ----------------------------------------------------------


@pytest.mark.parametrize("answer", [S.ACCEPTED, S.DECLINED, S.DENIED])
def test_the_customers_answer_cannot_settle_a_request_waiting_for_approval(rep, complaint, refused, answer):
    remedy = propose(rep, complaint, K.REFUND, "250.00")
    error = refused(
        complaint,
        TransitionNotAllowed,
        lambda: services.remedy_decide(actor=rep, remedy=remedy, state=answer),
    )
    assert error.allowed == [S.WITHDRAWN]


def test_a_request_can_be_withdrawn_and_then_nobody_answers_it(rep, senior, complaint, refused):
    remedy = propose(rep, complaint, K.REFUND, "250.00")
    assert services.remedy_decide(actor=rep, remedy=remedy, state=S.WITHDRAWN).state == S.WITHDRAWN
    error = refused(complaint, Conflict, lambda: approve(senior, remedy))
    assert error.message == "This request is no longer waiting: Withdrawn."
