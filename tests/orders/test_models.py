"""What the database itself refuses, and the row's own properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from fulfillment.errors import InvalidInput
from orders import services
from orders.models import Order, OrderEvent, OrderLine, Payment, Shipment

from ..factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_the_database_refuses_a_refund_above_what_was_paid_even_from_a_raw_update():
    order = OrderFactory(paid="60.50")
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(refunded_amount=F("paid_amount") + Decimal("0.01"))
    order.refresh_from_db()
    assert order.refunded_amount == Decimal("0.00")


@pytest.mark.parametrize(
    ("model", "change"),
    [
        (Order, {"paid_amount": Decimal("-0.01")}),
        (Order, {"refunded_amount": Decimal("-0.01")}),
        (Order, {"total": Decimal("-1.00")}),
        (Order, {"status": "teleported"}),
        (Order, {"ship_by": "2031-01-02", "deliver_by": "2031-01-01"}),
        (OrderLine, {"quantity": 0}),
        (OrderLine, {"unit_price": Decimal("-1.00")}),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else ",".join(v),
)
def test_the_database_refuses_rows_that_break_a_rule(model, change):
    order = OrderFactory()
    rows = model.objects.filter(pk=order.pk) if model is Order else model.objects.filter(order=order)
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(**change)


@pytest.mark.parametrize(
    "make",
    [
        lambda o: Payment.objects.create(order=o, kind="payment", amount=0, actor_name="x"),
        lambda o: Payment.objects.create(order=o, kind="gift", amount=1, actor_name="x"),
        lambda o: Shipment.objects.create(order=o, carrier="DHL", tracking_number=""),
    ],
    ids=["zero payment", "unknown payment kind", "empty tracking number"],
)
def test_the_database_refuses_bad_payment_and_shipment_rows(make):
    order = OrderFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        make(order)


def test_a_refund_from_a_stale_copy_is_checked_against_the_locked_row(senior):
    order = OrderFactory(paid="60.50")
    stale = Order.objects.get(pk=order.pk)  # read before the first refund
    services.order_refund(actor=senior, order=order, amount="60.50", reason="All of it")

    with pytest.raises(InvalidInput) as refused:
        services.order_refund(actor=senior, order=stale, amount="60.50", reason="Again, from an old page")

    assert "amount" in refused.value.field_errors
    order.refresh_from_db()
    assert order.refunded_amount == Decimal("60.50")
    assert Payment.objects.filter(order=order, kind="refund").count() == 1


def test_timeline_events_are_append_only(order):
    event = OrderEvent.objects.get(order=order)
    event.actor_name = "someone else"
    with pytest.raises(RuntimeError):
        event.save()
    assert OrderEvent.objects.get(pk=event.pk).actor_name == "factory"


def test_line_total_and_balance(senior):
    order = OrderFactory(paid="60.50")
    services.order_refund(actor=senior, order=order, amount="0.50", reason="Dent")
    order.refresh_from_db()
    assert [line.line_total for line in order.lines.all()] == [Decimal("50.00"), Decimal("10.50")]
    assert order.balance_paid == Decimal("60.00")
