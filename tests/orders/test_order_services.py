"""order_create, order_update_details, order_replace_lines: lines, totals, dates, references."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fulfillment import clock
from fulfillment.actors import ActorKind
from fulfillment.errors import Conflict, InvalidInput
from orders import services
from orders.enums import OrderEventType, OrderStatus, PaymentStatus
from orders.models import Order, OrderEvent
from orders.services import MAX_LINES, MAX_MONEY, MAX_QUANTITY, LineInput

from ..factories import CustomerFactory, OrderFactory
from .helpers import snapshot, world

LATER = dt.datetime(2031, 5, 6, 7, 8, tzinfo=dt.UTC)


def line(**overrides) -> LineInput:
    values = {"sku": "KB-100", "quantity": 1, "unit_price": Decimal("1.00"), "description": ""}
    values.update(overrides)
    return LineInput(**values)


def test_create_derives_totals_from_the_lines_and_records_the_event(rep, customer, settings):
    settings.FD_ORDER_NUMBER_PREFIX = "FD"
    with clock.frozen(LATER):
        order = services.order_create(
            actor=rep,
            customer=customer,
            lines=[
                line(sku=" KB-100 ", quantity=3, unit_price=Decimal("19.99"), description=" Keyboard "),
                line(sku="CB-010", quantity=2, unit_price="0.01"),
                line(sku="FREE-1", quantity=1, unit_price=0),
            ],
            currency="usd",
        )

    order.refresh_from_db()
    assert order.number == f"FD{order.pk:07d}"
    assert (order.status, order.currency, order.version) == (OrderStatus.PLACED, "USD", 1)
    assert order.subtotal == order.total == Decimal("59.99")
    assert (order.paid_amount, order.payment_status) == (Decimal("0.00"), PaymentStatus.UNPAID)
    assert order.placed_at == order.created_at == order.updated_at == LATER
    assert list(order.lines.values_list("position", "sku", "description", "quantity", "unit_price")) == [
        (1, "KB-100", "Keyboard", 3, Decimal("19.99")),
        (2, "CB-010", "", 2, Decimal("0.01")),
        (3, "FREE-1", "", 1, Decimal("0.00")),
    ]
    assert order.shipping_address == f"{customer.name}\n1 Main Street\nChennai\nIN"
    event = order.events.get()
    assert event.type == OrderEventType.CREATED
    assert event.details == {"total": "59.99", "currency": "USD", "lines": 3}
    assert (event.actor_kind, event.actor_user, event.actor_name) == (ActorKind.USER, rep, "rep1")


def test_totals_are_never_typed_in(rep, customer):
    with pytest.raises(TypeError):
        services.order_create(actor=rep, customer=customer, lines=[line()], total=Decimal("1000.00"))
    order = OrderFactory(customer=customer)
    with pytest.raises(InvalidInput) as refused:
        services.order_update_details(actor=rep, order=order, total=Decimal("0.01"), status="delivered")
    assert set(refused.value.field_errors) == {"total", "status"}


def test_create_uses_a_given_shipping_address(rep, customer):
    order = services.order_create(
        actor=rep,
        customer=customer,
        lines=[line()],
        shipping={"ship_name": "Gift for Ravi", "ship_line1": "2 Beach Road", "ship_country": "ph"},
    )
    assert order.shipping_address == "Gift for Ravi\n2 Beach Road\nPH"


LINE_REFUSALS = [
    ("quantity", {"quantity": 0}),
    ("quantity", {"quantity": -1}),
    ("quantity", {"quantity": 1.5}),
    ("quantity", {"quantity": True}),
    ("quantity", {"quantity": "2"}),
    ("quantity", {"quantity": MAX_QUANTITY + 1}),
    ("sku", {"sku": ""}),
    ("sku", {"sku": "   "}),
    ("sku", {"sku": "S" * 65}),
    ("description", {"description": "d" * 301}),
    ("unit_price", {"unit_price": Decimal("1.005")}),
    ("unit_price", {"unit_price": "0.001"}),
    ("unit_price", {"unit_price": Decimal("-0.01")}),
    ("unit_price", {"unit_price": "abc"}),
    ("unit_price", {"unit_price": "NaN"}),
    ("unit_price", {"unit_price": "Infinity"}),
    ("unit_price", {"unit_price": MAX_MONEY + Decimal("0.01")}),
    ("unit_price", {"unit_price": "1e30"}),
    ("unit_price", {"unit_price": "9" * 40}),
]


@pytest.mark.parametrize(("field", "bad"), LINE_REFUSALS, ids=[f"{f}={v!r}"[:40] for f, v in LINE_REFUSALS])
def test_a_bad_line_is_refused_on_its_field_and_nothing_is_created(rep, customer, field, bad):
    before = world()
    with pytest.raises(InvalidInput) as refused:
        services.order_create(actor=rep, customer=customer, lines=[line(), line(**bad)])
    assert list(refused.value.field_errors) == [f"lines.1.{field}"]
    assert world() == before


def test_the_largest_allowed_values_are_accepted(rep, customer):
    order = services.order_create(
        actor=rep, customer=customer, lines=[line(sku="S" * 64, quantity=1, unit_price=MAX_MONEY)]
    )
    assert order.total == MAX_MONEY


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [line()] * (MAX_LINES + 1),
        [line(unit_price=MAX_MONEY), line(unit_price="0.01")],
        [line(quantity=MAX_QUANTITY, unit_price="10000.00")],
    ],
    ids=["no lines", "too many lines", "total too large", "quantity × price too large"],
)
def test_orders_without_lines_or_beyond_the_money_limit_are_refused(rep, customer, lines):
    before = world()
    with pytest.raises(InvalidInput) as refused:
        services.order_create(actor=rep, customer=customer, lines=lines)
    assert "lines" in refused.value.field_errors
    assert world() == before


def test_ship_by_after_deliver_by_is_refused(rep, customer):
    before = world()
    with pytest.raises(InvalidInput) as refused:
        services.order_create(
            actor=rep, customer=customer, lines=[line()], ship_by=dt.date(2030, 1, 2), deliver_by=dt.date(2030, 1, 1)
        )
    assert "deliver_by" in refused.value.field_errors
    assert world() == before
    same_day = services.order_create(
        actor=rep, customer=customer, lines=[line()], ship_by=dt.date(2030, 1, 1), deliver_by=dt.date(2030, 1, 1)
    )
    assert same_day.ship_by == same_day.deliver_by


@pytest.mark.parametrize("currency", ["US", "USDX", "U$D", "123"])
def test_a_currency_that_is_not_three_letters_is_refused(rep, customer, currency):
    with pytest.raises(InvalidInput) as refused:
        services.order_create(actor=rep, customer=customer, lines=[line()], currency=currency)
    assert "currency" in refused.value.field_errors
    assert not Order.objects.exists()


def test_a_duplicate_source_and_external_ref_is_refused(rep, customer):
    services.order_create(actor=rep, customer=customer, lines=[line()], source="shop", external_ref="S-1")
    before = world()

    with pytest.raises(InvalidInput) as refused:
        services.order_create(actor=rep, customer=customer, lines=[line()], source="shop", external_ref="S-1")

    assert "external_ref" in refused.value.field_errors
    assert world() == before
    # The same reference from another source, and orders without a reference, are fine.
    services.order_create(actor=rep, customer=customer, lines=[line()], source="erp", external_ref="S-1")
    services.order_create(actor=rep, customer=customer, lines=[line()], source="shop")
    services.order_create(actor=rep, customer=customer, lines=[line()], source="shop")
    assert Order.objects.count() == 4


def test_an_external_ref_needs_its_source(rep, customer):
    with pytest.raises(InvalidInput) as refused:
        services.order_create(actor=rep, customer=customer, lines=[line()], external_ref="S-1")
    assert "source" in refused.value.field_errors


# --- order_update_details -------------------------------------------------------------


def test_update_details_records_the_changes_and_moves_the_version(rep, order):
    with clock.frozen(LATER):
        services.order_update_details(
            actor=rep,
            order=order,
            expected_version=1,
            ship_by=dt.date(2031, 6, 1),
            deliver_by=dt.date(2031, 6, 3),
            ship_city="Madurai",
            ship_country="in",
        )

    order.refresh_from_db()
    assert (order.ship_by, order.deliver_by, order.ship_city) == (dt.date(2031, 6, 1), dt.date(2031, 6, 3), "Madurai")
    assert (order.version, order.updated_at) == (2, LATER)
    event = order.events.get(type=OrderEventType.UPDATED)
    assert event.details == {
        "changes": {
            "ship_by": [None, "2031-06-01"],
            "deliver_by": [None, "2031-06-03"],
            "ship_city": ["Chennai", "Madurai"],
        }
    }
    assert event.actor_user == rep


def test_update_details_without_a_change_records_nothing(rep, order):
    before = snapshot(order)
    services.order_update_details(actor=rep, order=order, ship_city=order.ship_city, ship_by=None)
    assert snapshot(order) == before


@pytest.mark.parametrize(
    ("existing", "change"),
    [
        ({}, {"ship_by": dt.date(2031, 1, 2), "deliver_by": dt.date(2031, 1, 1)}),
        ({"deliver_by": dt.date(2031, 1, 1)}, {"ship_by": dt.date(2031, 1, 2)}),
        ({"ship_by": dt.date(2031, 1, 2)}, {"deliver_by": dt.date(2031, 1, 1)}),
    ],
    ids=["both", "ship_by after the stored deliver_by", "deliver_by before the stored ship_by"],
)
def test_update_details_refuses_ship_by_after_deliver_by(rep, existing, change):
    order = OrderFactory(**existing)
    before = snapshot(order)
    with pytest.raises(InvalidInput) as refused:
        services.order_update_details(actor=rep, order=order, **change)
    assert "deliver_by" in refused.value.field_errors
    assert snapshot(order) == before


def test_the_currency_of_a_paid_order_cannot_change(rep):
    order = OrderFactory(paid="1.00")
    before = snapshot(order)
    with pytest.raises(InvalidInput) as refused:
        services.order_update_details(actor=rep, order=order, currency="EUR")
    assert "currency" in refused.value.field_errors
    assert snapshot(order) == before


def test_update_details_with_a_stale_version_is_a_conflict(rep, order):
    services.order_add_note(actor=rep, order=order, text="moves the version")
    before = snapshot(order)
    with pytest.raises(Conflict):
        services.order_update_details(actor=rep, order=order, expected_version=1, ship_city="Delhi")
    assert snapshot(order) == before


# --- order_replace_lines --------------------------------------------------------------


def test_replacing_lines_recomputes_total_and_payment_status(rep):
    order = OrderFactory(paid="60.50")
    assert order.payment_status == PaymentStatus.PAID

    services.order_replace_lines(actor=rep, order=order, lines=[line(quantity=4, unit_price="25.00")])

    order.refresh_from_db()
    assert order.subtotal == order.total == Decimal("100.00")
    assert order.payment_status == PaymentStatus.PARTIALLY_PAID
    assert list(order.lines.values_list("sku", "quantity")) == [("KB-100", 4)]
    event = order.events.filter(type=OrderEventType.UPDATED).get()
    assert event.details == {"changes": {"lines": [1], "total": ["60.50", "100.00"]}}


@pytest.mark.parametrize("status", [OrderStatus.PROCESSING, OrderStatus.PACKED, OrderStatus.SHIPPED])
def test_lines_cannot_change_once_processing_started(rep, status):
    order = OrderFactory(status=status)
    before = snapshot(order)
    with pytest.raises(InvalidInput):
        services.order_replace_lines(actor=rep, order=order, lines=[line()])
    assert snapshot(order) == before


def test_replacing_lines_with_a_bad_line_or_stale_version_changes_nothing(rep, order):
    before = snapshot(order)
    with pytest.raises(InvalidInput):
        services.order_replace_lines(actor=rep, order=order, lines=[line(quantity=0)])
    with pytest.raises(Conflict):
        services.order_replace_lines(actor=rep, order=order, lines=[line()], expected_version=99)
    assert snapshot(order) == before
    assert not OrderEvent.objects.filter(order=order, type=OrderEventType.UPDATED).exists()


def test_orders_are_numbered_uniquely(rep):
    customer = CustomerFactory()
    numbers = {services.order_create(actor=rep, customer=customer, lines=[line()]).number for _ in range(5)}
    assert len(numbers) == 5
