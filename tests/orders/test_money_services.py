"""order_record_payment, order_refund and the payment status they derive."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fulfillment import clock
from fulfillment.actors import ActorKind
from fulfillment.errors import InvalidInput
from orders import services
from orders.enums import OrderEventType, OrderStatus, PaymentKind
from orders.enums import PaymentStatus as P
from orders.services import MAX_MONEY, _payment_status

from ..factories import OrderFactory
from .helpers import snapshot

LATER = dt.datetime(2031, 5, 6, 7, 8, tzinfo=dt.UTC)
D = Decimal


@pytest.mark.parametrize(
    ("total", "paid", "refunded", "expected"),
    [
        ("60.50", "0", "0", P.UNPAID),
        ("60.50", "0.01", "0", P.PARTIALLY_PAID),
        ("60.50", "60.49", "0", P.PARTIALLY_PAID),
        ("60.50", "60.50", "0", P.PAID),
        ("60.50", "70.00", "0", P.PAID),
        ("0.00", "0", "0", P.UNPAID),
        ("60.50", "60.50", "0.01", P.PARTIALLY_REFUNDED),
        ("60.50", "60.50", "60.49", P.PARTIALLY_REFUNDED),
        ("60.50", "60.50", "60.50", P.REFUNDED),
        ("60.50", "20.00", "20.00", P.REFUNDED),
    ],
)
def test_payment_status_follows_paid_and_refunded(total, paid, refunded, expected):
    assert _payment_status(D(total), D(paid), D(refunded)) == expected


def test_payments_and_refunds_move_the_status_step_by_step(rep, senior):
    order = OrderFactory()  # total 60.50
    seen = [order.payment_status]
    services.order_record_payment(actor=rep, order=order, amount="20.00")
    seen.append(order.__class__.objects.get(pk=order.pk).payment_status)
    services.order_record_payment(actor=rep, order=order, amount="40.50")
    seen.append(order.__class__.objects.get(pk=order.pk).payment_status)
    services.order_refund(actor=senior, order=order, amount="10.00", reason="Dent")
    seen.append(order.__class__.objects.get(pk=order.pk).payment_status)
    services.order_refund(actor=senior, order=order, amount="50.50", reason="Returned")
    seen.append(order.__class__.objects.get(pk=order.pk).payment_status)

    assert seen == [P.UNPAID, P.PARTIALLY_PAID, P.PAID, P.PARTIALLY_REFUNDED, P.REFUNDED]
    order.refresh_from_db()
    assert (order.paid_amount, order.refunded_amount, order.balance_paid) == (D("60.50"), D("60.50"), D("0.00"))


def test_a_payment_is_recorded_with_its_event(rep, order):
    with clock.frozen(LATER):
        payment = services.order_record_payment(actor=rep, order=order, amount="12.50", reference=" PAY-1 ")

    order.refresh_from_db()
    assert (payment.kind, payment.amount, payment.reference, payment.actor_name) == (
        PaymentKind.PAYMENT,
        D("12.50"),
        "PAY-1",
        "rep1",
    )
    assert (order.paid_amount, order.payment_status, order.version, order.updated_at) == (
        D("12.50"),
        P.PARTIALLY_PAID,
        2,
        LATER,
    )
    event = order.events.get(type=OrderEventType.PAYMENT_RECORDED)
    assert event.details == {"amount": "12.50", "reference": "PAY-1"}
    assert (event.actor_kind, event.actor_user, event.actor_name) == (ActorKind.USER, rep, "rep1")


BAD_AMOUNTS = [
    ("0", "more than zero"),
    ("0.00", "more than zero"),
    ("-5", "more than zero"),
    ("1.005", "two decimal places"),
    ("12.345", "two decimal places"),
    ("abc", "Enter an amount"),
    ("", "Enter an amount"),
    (None, "Enter an amount"),
    ("NaN", "Enter an amount"),
    ("-Infinity", "Enter an amount"),
    (str(MAX_MONEY + D("0.01")), "too large"),
    ("1e30", "too large"),
    ("1" + "0" * 60, "too large"),
]


@pytest.mark.parametrize(("amount", "message"), BAD_AMOUNTS)
def test_a_bad_payment_amount_is_refused_on_amount(rep, order, amount, message):
    before = snapshot(order)
    with pytest.raises(InvalidInput) as refused:
        services.order_record_payment(actor=rep, order=order, amount=amount)
    assert message in str(refused.value.field_errors["amount"][0])
    assert snapshot(order) == before


@pytest.mark.parametrize(("amount", "message"), BAD_AMOUNTS)
def test_a_bad_refund_amount_is_refused_on_amount(senior, amount, message):
    order = OrderFactory(paid="60.50")
    before = snapshot(order)
    with pytest.raises(InvalidInput) as refused:
        services.order_refund(actor=senior, order=order, amount=amount, reason="Dent")
    assert message in str(refused.value.field_errors["amount"][0])
    assert snapshot(order) == before


def test_payments_beyond_the_money_limit_in_total_are_refused(rep, order):
    services.order_record_payment(actor=rep, order=order, amount=MAX_MONEY)
    before = snapshot(order)
    with pytest.raises(InvalidInput) as refused:
        services.order_record_payment(actor=rep, order=order, amount="0.01")
    assert "amount" in refused.value.field_errors
    assert snapshot(order) == before


def test_a_cancelled_order_takes_no_payment(rep):
    order = OrderFactory(status=OrderStatus.CANCELLED)
    before = snapshot(order)
    with pytest.raises(InvalidInput):
        services.order_record_payment(actor=rep, order=order, amount="1.00")
    assert snapshot(order) == before


def test_a_refund_is_recorded_with_its_reason_and_event(senior):
    order = OrderFactory(paid="60.50")
    with clock.frozen(LATER):
        refund = services.order_refund(actor=senior, order=order, amount="10.25", reason=" Dented box ", reference="R1")

    order.refresh_from_db()
    assert (refund.kind, refund.amount, refund.note, refund.reference, refund.actor_name) == (
        PaymentKind.REFUND,
        D("10.25"),
        "Dented box",
        "R1",
        "senior1",
    )
    assert (order.refunded_amount, order.payment_status, order.updated_at) == (
        D("10.25"),
        P.PARTIALLY_REFUNDED,
        LATER,
    )
    event = order.events.get(type=OrderEventType.REFUND_RECORDED)
    assert event.details == {"amount": "10.25", "reason": "Dented box"}
    assert (event.actor_kind, event.actor_user) == (ActorKind.USER, senior)


@pytest.mark.parametrize(
    ("paid", "refunded_first", "attempt"),
    [("0", None, "0.01"), ("60.50", None, "60.51"), ("60.50", "60.00", "0.51"), ("60.50", "60.50", "0.01")],
)
def test_a_refund_above_what_was_paid_and_not_refunded_is_refused(senior, paid, refunded_first, attempt):
    order = OrderFactory(paid=paid if paid != "0" else None)
    if refunded_first:
        services.order_refund(actor=senior, order=order, amount=refunded_first, reason="First")
    before = snapshot(order)

    with pytest.raises(InvalidInput) as refused:
        services.order_refund(actor=senior, order=order, amount=attempt, reason="Too much")

    remaining = D(paid) - D(refunded_first or "0")
    assert refused.value.field_errors == {"amount": [f"At most {remaining:.2f} USD can be refunded."]}
    assert snapshot(order) == before


def test_exactly_what_remains_can_be_refunded(senior):
    order = OrderFactory(paid="60.50")
    services.order_refund(actor=senior, order=order, amount="60.00", reason="Most")
    services.order_refund(actor=senior, order=order, amount="0.50", reason="Rest")
    order.refresh_from_db()
    assert (order.refunded_amount, order.payment_status) == (D("60.50"), P.REFUNDED)


def test_a_refund_needs_a_reason(senior):
    order = OrderFactory(paid="60.50")
    before = snapshot(order)
    with pytest.raises(InvalidInput) as refused:
        services.order_refund(actor=senior, order=order, amount="1.00", reason="  ")
    assert "reason" in refused.value.field_errors
    assert snapshot(order) == before
