"""factory_boy factories. Orders are made through the service, so they carry their timeline."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from fulfillment.actors import Actor
from fulfillment.tiers import Tier
from orders import services
from orders.enums import Department, OrderStatus
from orders.models import Customer, phone_digits
from orders.services import LineInput

PASSWORD = "test-pass-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@desk.example")
    tier = Tier.REP
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    phone = factory.Sequence(lambda n: f"+1 555 {n:07d}")
    phone_digits = factory.LazyAttribute(lambda c: phone_digits(c.phone))
    address_line1 = "1 Main Street"
    city = "Chennai"
    country = "IN"


#: How the factory walks an order to each status, one service call per step.
_PATHS = {
    OrderStatus.PLACED: [],
    OrderStatus.CONFIRMED: ["confirm"],
    OrderStatus.PROCESSING: ["confirm", "process"],
    OrderStatus.PACKED: ["confirm", "process", "pack"],
    OrderStatus.SHIPPED: ["confirm", "process", "pack", "ship"],
    OrderStatus.DELIVERED: ["confirm", "process", "pack", "ship", "deliver"],
    OrderStatus.RETURNED: ["confirm", "process", "pack", "ship", "deliver", "return"],
    OrderStatus.CANCELLED: ["cancel"],
}


def _step(order, step: str, actor: Actor):
    if step == "confirm":
        return services.order_confirm(actor=actor, order=order)
    if step == "process":
        return services.order_start_processing(actor=actor, order=order)
    if step == "pack":
        return services.order_pack(actor=actor, order=order)
    if step == "ship":
        services.order_ship(actor=actor, order=order, carrier="DHL", tracking_number=f"TRK{order.pk:09d}")
        return order
    if step == "deliver":
        return services.order_deliver(actor=actor, order=order)
    if step == "return":
        return services.order_mark_returned(actor=actor, order=order, reason="Came back")
    if step == "cancel":
        return services.order_cancel(actor=actor, order=order, reason="Changed their mind")
    raise ValueError(step)


def walk_to(order, status: str, *, held_from: str = OrderStatus.PLACED, actor: Actor | None = None):
    """Move a *placed* order to ``status`` through the services (on hold: from ``held_from``)."""
    actor = actor or Actor.system("factory")
    if status == OrderStatus.ON_HOLD:
        order = walk_to(order, held_from, actor=actor)
        order = services.order_hold(actor=actor, order=order, reason="Address to check")
    else:
        for step in _PATHS[status]:
            order = _step(order, step, actor)
    order.refresh_from_db()
    return order


class OrderFactory(factory.Factory):
    """``OrderFactory(customer=…, lines=[…], ship_by=…)`` → an order in status *placed*.

    ``OrderFactory(status="shipped")`` walks it on through the services;
    ``OrderFactory(status="on_hold", held_from="packed")`` holds it from that status.
    """

    class Meta:
        model = dict  # built by the service in _create

    customer = factory.SubFactory(CustomerFactory)
    lines = factory.LazyFunction(
        lambda: [
            LineInput(sku="KB-100", description="Keyboard", quantity=2, unit_price=Decimal("25.00")),
            LineInput(sku="MS-220", description="Mouse", quantity=1, unit_price=Decimal("10.50")),
        ]
    )
    currency = "USD"
    ship_by = None
    deliver_by = None
    source = ""
    external_ref = ""

    @classmethod
    def _create(cls, model_class, *, status=OrderStatus.PLACED, held_from=OrderStatus.PLACED, paid=None, **kwargs):
        actor = Actor.system("factory")
        order = services.order_create(actor=actor, **kwargs)
        if paid is not None:
            services.order_record_payment(actor=actor, order=order, amount=paid)
        if status != OrderStatus.PLACED:
            order = walk_to(order, status, held_from=held_from, actor=actor)
        elif paid is not None:
            order.refresh_from_db()
        return order

    _build = _create


class HandoffFactory(factory.Factory):
    """A department hand-off, made through ``handoff_create``."""

    class Meta:
        model = dict

    order = factory.SubFactory(OrderFactory)
    department = Department.WAREHOUSE
    summary = "Check the shelf"
    owner = None
    due_date = None

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.handoff_create(actor=Actor.system("factory"), **kwargs)

    _build = _create
