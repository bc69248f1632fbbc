"""Order status services: every move goes through the one transition table."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from fulfillment import clock
from fulfillment.actors import Actor, as_actor
from fulfillment.errors import InvalidInput, TransitionNotAllowed
from fulfillment.permissions import require

from .. import events
from .. import permissions as perms
from ..enums import (
    TRANSITIONS,
    OrderStatus,
    RiskReason,
    ServiceLevel,
    ShipmentStatus,
    allowed_targets,
)
from ..models import (
    Order,
    Shipment,
)
from ._common import (
    STATUS_LABELS,
    _check_version,
    _clean_text,
    _lock_order,
    _touch,
)

# --- orders: status ----------------------------------------------------------------------


def _move(
    order: Order, actor: Actor, target: str, *, reason: str = "", extra_fields=(), releasing: bool = False
) -> Order:
    """Apply one transition from the table to a locked order, and record it."""
    allowed = allowed_targets(order.status, order.held_from_status or None, releasing=releasing)
    if target not in allowed:
        raise TransitionNotAllowed(current=order.status, requested=target, allowed=allowed, labels=STATUS_LABELS)
    old = order.status
    order.status = target
    fields = ["status", *extra_fields]
    if target == OrderStatus.ON_HOLD:
        order.held_from_status = old
        fields.append("held_from_status")
    elif old == OrderStatus.ON_HOLD:
        order.held_from_status = ""
        fields.append("held_from_status")
    cleared = _risk_ends(order, target)
    if cleared:
        order.risk_flagged_at, order.risk_reason = None, ""
        fields += ["risk_flagged_at", "risk_reason"]
    _touch(order, fields)
    events.status_changed(order, actor, old=old, new=target, reason=reason)
    if cleared:
        events.risk_cleared(order, actor, reason=cleared, status=target)
    return order


def _risk_ends(order: Order, target: str) -> str:
    """The at-risk reason that moving to ``target`` ends ("" if none): shipping ends "not
    shipped"; delivered, cancelled or returned ends either."""
    if not order.risk_flagged_at:
        return ""
    if target in (OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.RETURNED):
        return order.risk_reason
    if target == OrderStatus.SHIPPED and order.risk_reason == RiskReason.NOT_SHIPPED:
        return order.risk_reason
    return ""


def _transition(
    order: Order, actor: Actor, target: str, rule, *, reason: str = "", expected_version: int | None = None
) -> Order:
    actor = as_actor(actor)
    require(actor, rule)
    reason = _clean_text(reason, "reason", 500)
    with transaction.atomic():
        order = _lock_order(order)
        _check_version(order, expected_version)
        return _move(order, actor, target, reason=reason)


def order_confirm(*, actor: Actor, order: Order, expected_version: int | None = None) -> Order:
    return _transition(order, actor, OrderStatus.CONFIRMED, perms.FULFIL, expected_version=expected_version)


def order_start_processing(*, actor: Actor, order: Order, expected_version: int | None = None) -> Order:
    return _transition(order, actor, OrderStatus.PROCESSING, perms.FULFIL, expected_version=expected_version)


def order_pack(*, actor: Actor, order: Order, expected_version: int | None = None) -> Order:
    return _transition(order, actor, OrderStatus.PACKED, perms.FULFIL, expected_version=expected_version)


def order_hold(*, actor: Actor, order: Order, reason: str, expected_version: int | None = None) -> Order:
    if not (reason or "").strip():
        raise InvalidInput(field_errors={"reason": [_("Say why the order is on hold.")]})
    return _transition(
        order, actor, OrderStatus.ON_HOLD, perms.FULFIL, reason=reason, expected_version=expected_version
    )


def order_release(*, actor: Actor, order: Order, expected_version: int | None = None) -> Order:
    """Take an order off hold, back to the status it was held from."""
    actor = as_actor(actor)
    require(actor, perms.FULFIL)
    with transaction.atomic():
        order = _lock_order(order)
        _check_version(order, expected_version)
        if order.status != OrderStatus.ON_HOLD:
            raise TransitionNotAllowed(
                current=order.status,
                requested="release",
                allowed=TRANSITIONS.get(order.status, ()),
                labels=STATUS_LABELS,
            )
        return _move(order, actor, order.held_from_status or OrderStatus.PLACED, releasing=True)


def order_cancel(*, actor: Actor, order: Order, reason: str, expected_version: int | None = None) -> Order:
    if not (reason or "").strip():
        raise InvalidInput(field_errors={"reason": [_("Say why the order is cancelled.")]})
    return _transition(
        order, actor, OrderStatus.CANCELLED, perms.CANCEL, reason=reason, expected_version=expected_version
    )


def order_mark_returned(*, actor: Actor, order: Order, reason: str, expected_version: int | None = None) -> Order:
    if not (reason or "").strip():
        raise InvalidInput(field_errors={"reason": [_("Say why the order came back.")]})
    return _transition(
        order, actor, OrderStatus.RETURNED, perms.FULFIL, reason=reason, expected_version=expected_version
    )


def order_ship(
    *,
    actor: Actor,
    order: Order,
    carrier: str,
    tracking_number: str,
    service_level: str = ServiceLevel.STANDARD,
    expected_version: int | None = None,
) -> Shipment:
    """Hand the parcel to a carrier: a shipment with its tracking number, and status *shipped*."""
    actor = as_actor(actor)
    require(actor, perms.FULFIL)
    carrier = _clean_text(carrier, "carrier", 60, required=True)
    tracking_number = _clean_text(tracking_number, "tracking_number", 80, required=True)
    if service_level not in ServiceLevel.values:
        raise InvalidInput(field_errors={"service_level": [_("Choose one of the offered service levels.")]})
    with transaction.atomic():
        order = _lock_order(order)
        _check_version(order, expected_version)
        now = clock.now()
        _move(order, actor, OrderStatus.SHIPPED)
        shipment = Shipment.objects.create(
            order=order,
            carrier=carrier,
            tracking_number=tracking_number,
            service_level=service_level,
            shipped_at=now,
            updated_at=now,
        )
        events.shipment_created(order, actor, shipment=shipment)
    return shipment


def order_deliver(*, actor: Actor, order: Order, expected_version: int | None = None) -> Order:
    """The customer has it: status *delivered*, and every open shipment delivered."""
    actor = as_actor(actor)
    require(actor, perms.FULFIL)
    with transaction.atomic():
        order = _lock_order(order)
        _check_version(order, expected_version)
        _move(order, actor, OrderStatus.DELIVERED)
        now = clock.now()
        for shipment in order.shipments.select_for_update().exclude(status=ShipmentStatus.DELIVERED):
            old = shipment.status
            shipment.status, shipment.delivered_at, shipment.updated_at = ShipmentStatus.DELIVERED, now, now
            shipment.save(update_fields=["status", "delivered_at", "updated_at"])
            events.shipment_updated(order, actor, shipment=shipment, old=old, new=shipment.status)
    return order


def shipment_update_status(*, actor: Actor, shipment: Shipment, status: str) -> Shipment:
    """A carrier update (in transit, out for delivery, problem, …). Delivered moves the order too."""
    actor = as_actor(actor)
    require(actor, perms.FULFIL)
    if status not in ShipmentStatus.values:
        raise InvalidInput(field_errors={"status": [_("Choose one of the offered delivery statuses.")]})
    with transaction.atomic():
        order = _lock_order(shipment.order_id)
        shipment = Shipment.objects.select_for_update().get(pk=shipment.pk)
        if shipment.status == status:
            return shipment
        old = shipment.status
        now = clock.now()
        shipment.status, shipment.updated_at = status, now
        shipment.delivered_at = now if status == ShipmentStatus.DELIVERED else None
        shipment.save(update_fields=["status", "updated_at", "delivered_at"])
        events.shipment_updated(order, actor, shipment=shipment, old=old, new=status)
        all_delivered = not order.shipments.exclude(status=ShipmentStatus.DELIVERED).exists()
        if status == ShipmentStatus.DELIVERED and all_delivered and order.status == OrderStatus.SHIPPED:
            _move(order, actor, OrderStatus.DELIVERED)
        else:
            _touch(order, [])
    return shipment
