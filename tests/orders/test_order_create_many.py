"""order_create_many: the bulk path writes exactly what order_create would, or nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fulfillment.actors import Actor
from fulfillment.errors import InvalidInput
from orders import services
from orders.models import Order, OrderEvent, OrderLine
from orders.services import LineInput

from ..factories import CustomerFactory, OrderFactory

SHOP = Actor.system("shop-front")


def _spec(customer, ref, *lines):
    lines = lines or (LineInput(sku="A", quantity=2, unit_price=Decimal("1.50")),)
    return {"customer": customer, "lines": list(lines), "source": "shop", "external_ref": ref}


def test_many_orders_match_what_one_at_a_time_writes(db):
    customer = CustomerFactory()
    one = services.order_create(actor=SHOP, **_spec(customer, "ONE"))
    many = services.order_create_many(
        actor=SHOP,
        orders=[
            _spec(customer, "M-1"),
            _spec(
                customer,
                "M-2",
                LineInput(sku="B", quantity=1, unit_price=Decimal("4.00")),
                LineInput(sku="C", quantity=3, unit_price=Decimal("0.10")),
            ),
        ],
    )
    assert [o.number for o in many] == [f"FD{o.pk:07d}" for o in many]
    assert list(Order.objects.filter(pk__in=[o.pk for o in many]).order_by("pk").values_list("number", flat=True)) == [
        f"FD{o.pk:07d}" for o in many
    ]
    first = Order.objects.get(pk=many[0].pk)
    assert (first.total, first.status, first.version, first.ship_name) == (one.total, "placed", 1, customer.name)
    assert first.change_seq > 0
    second = Order.objects.get(pk=many[1].pk)
    assert second.total == Decimal("4.30")
    assert list(second.lines.values_list("position", "sku")) == [(1, "B"), (2, "C")]
    event = OrderEvent.objects.get(order=second)
    assert (event.type, event.details["lines"], event.actor_name) == ("created", 2, "shop-front")


@pytest.mark.parametrize(
    "bad",
    [
        {"lines": []},
        {"currency": "US1"},
        {"external_ref": "TAKEN"},
        {"external_ref": "M-1"},  # twice in the batch
    ],
)
def test_one_refused_order_writes_nothing_at_all(db, bad):
    customer = CustomerFactory()
    OrderFactory(customer=customer, source="shop", external_ref="TAKEN")
    before = (Order.objects.count(), OrderLine.objects.count(), OrderEvent.objects.count())
    specs = [_spec(customer, "M-1"), {**_spec(customer, "M-2"), **bad}]
    with pytest.raises(InvalidInput):
        services.order_create_many(actor=SHOP, orders=specs)
    assert (Order.objects.count(), OrderLine.objects.count(), OrderEvent.objects.count()) == before


def test_many_customers_match_what_one_at_a_time_writes(db):
    from orders.models import CustomerEvent, CustomerExternalRef

    made = services.customer_create_many(
        actor=SHOP,
        customers=[
            (("shop", "C-1"), {"name": "Ann", "phone": "+1 (555) 010-2030", "country": "in"}),
            (("shop", "C-2"), {"name": "Bo"}),
        ],
    )
    ann = made[0]
    ann.refresh_from_db()
    assert (ann.phone_digits, ann.country, ann.version) == ("15550102030", "IN", 1)
    assert CustomerExternalRef.objects.get(source="shop", external_ref="C-2").customer_id == made[1].pk
    assert sorted(CustomerEvent.objects.filter(customer=ann).values_list("type", flat=True)) == [
        "created",
        "external_ref_added",
    ]


def test_a_refused_customer_writes_no_customer_at_all(db):
    from orders.models import Customer

    before = Customer.objects.count()
    with pytest.raises(InvalidInput):
        services.customer_create_many(
            actor=SHOP, customers=[(("shop", "C-1"), {"name": "Ann"}), (("shop", "C-2"), {"name": ""})]
        )
    assert Customer.objects.count() == before


def test_numbers_past_seven_digits_are_not_cut(db):
    from django.db import connection

    customer = CustomerFactory()
    big = 12_345_678
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence('orders_order', 'id'), %s)", [big])
    else:  # SQLite's AUTOINCREMENT keeps its counter in sqlite_sequence
        OrderFactory(customer=customer)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = 'orders_order'", [big])
    made = services.order_create_many(actor=SHOP, orders=[_spec(customer, "BIG-1"), _spec(customer, "BIG-2")])
    stored = dict(Order.objects.filter(pk__in=[o.pk for o in made]).values_list("pk", "number"))
    assert all(pk > 10_000_000 for pk in stored)
    assert stored == {pk: f"FD{pk}" for pk in stored}
