"""Snapshots that prove a refused action changed nothing."""

from __future__ import annotations

from orders.models import (
    Customer,
    CustomerEvent,
    CustomerExternalRef,
    Handoff,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Shipment,
)


def snapshot(order: Order) -> dict:
    """The order row (status, version, updated_at, money …) and every row hanging off it."""
    return {
        "order": Order.objects.values().get(pk=order.pk),
        "events": list(OrderEvent.objects.filter(order_id=order.pk).values_list("id", flat=True)),
        "lines": list(OrderLine.objects.filter(order_id=order.pk).values()),
        "payments": list(Payment.objects.filter(order_id=order.pk).values()),
        "shipments": list(Shipment.objects.filter(order_id=order.pk).values()),
        "handoffs": list(Handoff.objects.filter(order_id=order.pk).values()),
    }


def customer_snapshot(customer: Customer) -> dict:
    return {
        "customer": Customer.objects.values().get(pk=customer.pk),
        "refs": list(customer.external_refs.values()),
        "events": list(CustomerEvent.objects.filter(customer_id=customer.pk).values_list("id", flat=True)),
    }


def last_event(order: Order) -> OrderEvent:
    return OrderEvent.objects.filter(order_id=order.pk).order_by("-id").first()


WORLD_MODELS = (Customer, CustomerExternalRef, CustomerEvent, Order, OrderLine, Payment, Shipment, Handoff, OrderEvent)


def world() -> dict:
    """Every row of every orders table: a refused call must leave all of them as they were."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in WORLD_MODELS}
