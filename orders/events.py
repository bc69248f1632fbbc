"""Timeline events: one small function per event type, called only by services in their
transaction. The timeline page reads these rows; nothing else writes them.

The events an API client may subscribe to (docs/webhooks.md) go into the webhook outbox here,
in the same transaction: ``order.created``, ``order.updated``, ``order.status_changed``,
``order.shipped`` and ``order.expedite_at_risk``."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from fulfillment import clock, webhooks
from fulfillment.actors import Actor
from fulfillment.models import WebhookEventType as Hook

from .enums import CustomerEventType, OrderEventType, OrderStatus
from .models import Customer, CustomerEvent, Order, OrderEvent
from .services._common import insert_rows


def _order_event(order: Order, actor: Actor, type_: str, **details) -> OrderEvent:
    return OrderEvent.objects.create(order=order, type=type_, details=details, **actor.event_fields())


def _hook_data(pk: int, number: str, status: str, version: int, updated_at) -> dict:
    """What every order webhook says of the order: from the row in hand, no query."""
    return {
        "id": pk,
        "number": number,
        "status": status,
        "version": version,
        "updated_at": updated_at.isoformat(),
        "url": settings.FD_SITE_URL + reverse("api-orders-detail", args=[pk]),
    }


def _hook(type_: str, order: Order, **extra) -> None:
    if not webhooks.wanted(type_):
        return
    data = _hook_data(order.pk, order.number, order.status, order.version, order.updated_at)
    webhooks.emit(type_, ref=f"order:{order.pk}", data={**data, **extra})


def order_created(order: Order, actor: Actor, *, line_count: int) -> OrderEvent:
    _hook(Hook.ORDER_CREATED, order, total=str(order.total), currency=order.currency)
    return _order_event(
        order, actor, OrderEventType.CREATED, total=str(order.total), currency=order.currency, lines=line_count
    )


def orders_created(orders: list, actor: Actor, *, line_counts: list[int]) -> None:
    """The created event of many new orders at once (bulk sync; ``orders``: anything with pk,
    number, total, currency and updated_at, new in status placed), one statement and no model
    instances; their webhooks likewise."""
    fields = actor.event_fields()
    user = fields["actor_user"]
    now = clock.now()
    webhooks.emit_many(
        Hook.ORDER_CREATED,
        (
            (
                f"order:{order.pk}",
                {
                    **_hook_data(order.pk, order.number, OrderStatus.PLACED, 1, order.updated_at),
                    "total": str(order.total),
                    "currency": order.currency,
                },
            )
            for order in orders
        ),
    )
    insert_rows(
        OrderEvent,
        ("order_id", "type", "details", "created_at", "actor_kind", "actor_user_id", "actor_name"),
        [
            (
                order.pk,
                OrderEventType.CREATED,
                {"total": str(order.total), "currency": order.currency, "lines": count},
                now,
                fields["actor_kind"],
                user.pk if user else None,
                fields["actor_name"],
            )
            for order, count in zip(orders, line_counts, strict=True)
        ],
    )


def order_updated(order: Order, actor: Actor, changes: dict) -> OrderEvent:
    _hook(Hook.ORDER_UPDATED, order, changed=sorted(changes))
    return _order_event(order, actor, OrderEventType.UPDATED, changes=changes)


def status_changed(order: Order, actor: Actor, *, old: str, new: str, reason: str = "") -> OrderEvent:
    _hook(Hook.ORDER_STATUS_CHANGED, order, old_status=old)
    return _order_event(order, actor, OrderEventType.STATUS_CHANGED, old=old, new=new, reason=reason)


def payment_recorded(order: Order, actor: Actor, *, amount, reference: str) -> OrderEvent:
    return _order_event(order, actor, OrderEventType.PAYMENT_RECORDED, amount=str(amount), reference=reference)


def refund_recorded(order: Order, actor: Actor, *, amount, reason: str) -> OrderEvent:
    return _order_event(order, actor, OrderEventType.REFUND_RECORDED, amount=str(amount), reason=reason)


def shipment_created(order: Order, actor: Actor, *, shipment) -> OrderEvent:
    _hook(
        Hook.ORDER_SHIPPED,
        order,
        shipment={
            "id": shipment.pk,
            "carrier": shipment.carrier,
            "tracking_number": shipment.tracking_number,
            "service_level": shipment.service_level,
        },
    )
    return _order_event(
        order,
        actor,
        OrderEventType.SHIPMENT_CREATED,
        shipment=shipment.pk,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        service_level=shipment.service_level,
    )


def shipment_updated(order: Order, actor: Actor, *, shipment, old: str, new: str) -> OrderEvent:
    return _order_event(
        order,
        actor,
        OrderEventType.SHIPMENT_UPDATED,
        shipment=shipment.pk,
        tracking_number=shipment.tracking_number,
        old=old,
        new=new,
    )


def expedite_requested(order: Order, actor: Actor, *, reason: str, requested_by: str) -> OrderEvent:
    return _order_event(order, actor, OrderEventType.EXPEDITE_REQUESTED, reason=reason, requested_by=requested_by)


def expedite_cleared(order: Order, actor: Actor, *, reason: str) -> OrderEvent:
    return _order_event(order, actor, OrderEventType.EXPEDITE_CLEARED, reason=reason)


def handoff_created(order: Order, actor: Actor, *, handoff) -> OrderEvent:
    return _order_event(
        order,
        actor,
        OrderEventType.HANDOFF_CREATED,
        handoff=handoff.pk,
        department=handoff.department,
        summary=handoff.summary,
        owner=handoff.owner.get_username() if handoff.owner else "",
        due_date=handoff.due_date.isoformat() if handoff.due_date else None,
    )


def handoff_changed(order: Order, actor: Actor, *, handoff, old: str, new: str, note: str) -> OrderEvent:
    return _order_event(
        order,
        actor,
        OrderEventType.HANDOFF_CHANGED,
        handoff=handoff.pk,
        department=handoff.department,
        old=old,
        new=new,
        note=note,
    )


def note_added(order: Order, actor: Actor, *, text: str) -> OrderEvent:
    return _order_event(order, actor, OrderEventType.NOTE_ADDED, text=text)


def flagged_at_risk(order: Order, actor: Actor, *, reason: str, date: str) -> OrderEvent:
    """The order missed its ship-by (``reason`` not_shipped) or deliver-by date (``date``)."""
    _hook(Hook.ORDER_EXPEDITE_AT_RISK, order, risk_reason=reason, date=date)
    return _order_event(order, actor, OrderEventType.AT_RISK, reason=reason, date=date)


def risk_cleared(order: Order, actor: Actor, *, reason: str, status: str) -> OrderEvent:
    """The flag came off: the order shipped, was delivered, cancelled or returned (``status``)."""
    return _order_event(order, actor, OrderEventType.RISK_CLEARED, reason=reason, status=status)


def expedite_reminded(order: Order, actor: Actor, *, told: list[str], number: int) -> OrderEvent:
    """The ``number``-th expedite reminder went to the people in ``told`` (user names)."""
    return _order_event(order, actor, OrderEventType.EXPEDITE_REMINDED, told=told, number=number)


def _customer_event(customer: Customer, actor: Actor, type_: str, **details) -> CustomerEvent:
    return CustomerEvent.objects.create(customer=customer, type=type_, details=details, **actor.event_fields())


def customer_created(customer: Customer, actor: Actor) -> CustomerEvent:
    return _customer_event(customer, actor, CustomerEventType.CREATED)


def customers_created(customers: list[Customer], actor: Actor, *, refs: list[tuple[str, str]]) -> list:
    """Created and reference-added events of many customers at once (bulk sync)."""
    fields = actor.event_fields()
    rows = []
    for customer, (source, ref) in zip(customers, refs, strict=True):
        rows.append(CustomerEvent(customer=customer, type=CustomerEventType.CREATED, details={}, **fields))
        rows.append(
            CustomerEvent(
                customer=customer,
                type=CustomerEventType.EXTERNAL_REF_ADDED,
                details={"source": source, "external_ref": ref},
                **fields,
            )
        )
    return CustomerEvent.objects.bulk_create(rows)


def customer_updated(customer: Customer, actor: Actor, changes: dict) -> CustomerEvent:
    return _customer_event(customer, actor, CustomerEventType.UPDATED, changes=changes)


def customer_external_ref_added(customer: Customer, actor: Actor, *, source: str, ref: str) -> CustomerEvent:
    return _customer_event(customer, actor, CustomerEventType.EXTERNAL_REF_ADDED, source=source, external_ref=ref)
