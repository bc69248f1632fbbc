"""Choices for orders, and the ONE order transition table."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed")
    CONFIRMED = "confirmed", _("Confirmed")
    PROCESSING = "processing", _("Processing")
    PACKED = "packed", _("Packed")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    ON_HOLD = "on_hold", _("On hold")
    CANCELLED = "cancelled", _("Cancelled")
    RETURNED = "returned", _("Returned")


S = OrderStatus

#: The allowed moves. Services check it, the UI shows only these, the API answers 409 with them.
#: Besides cancelling, an order leaves ON_HOLD only by *release*, back to the status it was held
#: from (``held_from_status``) — never skipping ahead. ``allowed_targets`` adds that move.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.PLACED: frozenset({S.CONFIRMED, S.ON_HOLD, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.PROCESSING, S.SHIPPED, S.ON_HOLD, S.CANCELLED}),
    S.PROCESSING: frozenset({S.PACKED, S.SHIPPED, S.ON_HOLD, S.CANCELLED}),
    S.PACKED: frozenset({S.SHIPPED, S.ON_HOLD, S.CANCELLED}),
    S.SHIPPED: frozenset({S.DELIVERED, S.RETURNED}),
    S.DELIVERED: frozenset({S.RETURNED}),
    S.ON_HOLD: frozenset({S.CANCELLED}),
    S.CANCELLED: frozenset(),
    S.RETURNED: frozenset(),
}

#: Statuses in which the order has not left the building yet.
NOT_SHIPPED = (S.PLACED, S.CONFIRMED, S.PROCESSING, S.PACKED, S.ON_HOLD)
#: Statuses in which the order has not reached the customer yet.
NOT_DELIVERED = (*NOT_SHIPPED, S.SHIPPED)
#: Statuses in which an expedite still makes sense.
EXPEDITABLE = (*NOT_SHIPPED, S.SHIPPED)
#: Statuses that end the order's life.
FINAL = (S.DELIVERED, S.CANCELLED, S.RETURNED)


class OrderAction(models.TextChoices):
    """Status actions, as buttons and (next issue) API endpoints. Each targets one status."""

    CONFIRM = "confirm", _("Confirm")
    PROCESS = "process", _("Start processing")
    PACK = "pack", _("Mark packed")
    SHIP = "ship", _("Mark shipped")
    DELIVER = "deliver", _("Mark delivered")
    HOLD = "hold", _("Put on hold")
    RELEASE = "release", _("Release hold")
    CANCEL = "cancel", _("Cancel order")
    RETURN = "return", _("Mark returned")


ACTION_TARGET: dict[str, str | None] = {
    OrderAction.CONFIRM: S.CONFIRMED,
    OrderAction.PROCESS: S.PROCESSING,
    OrderAction.PACK: S.PACKED,
    OrderAction.SHIP: S.SHIPPED,
    OrderAction.DELIVER: S.DELIVERED,
    OrderAction.HOLD: S.ON_HOLD,
    OrderAction.RELEASE: None,  # back to held_from_status
    OrderAction.CANCEL: S.CANCELLED,
    OrderAction.RETURN: S.RETURNED,
}


#: Statuses an order can be put on hold from (and so released back to).
HOLDABLE = tuple(status for status, targets in TRANSITIONS.items() if S.ON_HOLD in targets)


def allowed_targets(current: str, held_from: str | None = None, *, releasing: bool = False) -> frozenset[str]:
    """The statuses an order in ``current`` may move to; releasing a hold adds ``held_from``."""
    targets = TRANSITIONS.get(current, frozenset())
    if releasing and current == S.ON_HOLD and held_from in HOLDABLE:
        targets = targets | {held_from}
    return targets


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def allowed_actions(current: str, held_from: str | None = None) -> list[str]:
    """The actions a UI may offer for an order in ``current`` status."""
    actions = []
    for action, target in ACTION_TARGET.items():
        if action == OrderAction.RELEASE:
            if held_from in allowed_targets(current, held_from, releasing=True):
                actions.append(action)
        elif can_move(current, target):
            actions.append(action)
    return actions


class RiskReason(models.TextChoices):
    NOT_SHIPPED = "not_shipped", _("Not shipped by its ship-by date")
    NOT_DELIVERED = "not_delivered", _("Not delivered by its deliver-by date")


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid", _("Unpaid")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    PAID = "paid", _("Paid")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")


class PaymentKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    REFUND = "refund", _("Refund")


class ShipmentStatus(models.TextChoices):
    LABEL_CREATED = "label_created", _("Label created")
    IN_TRANSIT = "in_transit", _("In transit")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Delivery problem")
    RETURNED = "returned", _("Returned to sender")


class ServiceLevel(models.TextChoices):
    STANDARD = "standard", _("Standard")
    EXPRESS = "express", _("Express")
    OVERNIGHT = "overnight", _("Overnight")
    FREIGHT = "freight", _("Freight")


class CustomerTier(models.TextChoices):
    """How the shop ranks a customer; service-target rules may give a tier faster targets."""

    STANDARD = "standard", _("Standard")
    PREFERRED = "preferred", _("Preferred")
    VIP = "vip", _("VIP")


class Department(models.TextChoices):
    WAREHOUSE = "warehouse", _("Warehouse")
    SHIPPING = "shipping", _("Shipping")
    BILLING = "billing", _("Billing")
    TECHNICAL = "technical", _("Technical")
    RETURNS = "returns", _("Returns")


class HandoffState(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


HANDOFF_TRANSITIONS: dict[str, frozenset[str]] = {
    HandoffState.OPEN: frozenset({HandoffState.IN_PROGRESS, HandoffState.DONE, HandoffState.CANCELLED}),
    HandoffState.IN_PROGRESS: frozenset({HandoffState.DONE, HandoffState.CANCELLED, HandoffState.OPEN}),
    HandoffState.DONE: frozenset(),
    HandoffState.CANCELLED: frozenset(),
}


class OrderEventType(models.TextChoices):
    CREATED = "created", _("Order created")
    UPDATED = "updated", _("Order details changed")
    STATUS_CHANGED = "status_changed", _("Status changed")
    LINE_ADDED = "line_added", _("Line added")
    PAYMENT_RECORDED = "payment_recorded", _("Payment recorded")
    REFUND_RECORDED = "refund_recorded", _("Refund recorded")
    SHIPMENT_CREATED = "shipment_created", _("Shipped")
    SHIPMENT_UPDATED = "shipment_updated", _("Shipment status changed")
    EXPEDITE_REQUESTED = "expedite_requested", _("Expedite requested")
    EXPEDITE_CLEARED = "expedite_cleared", _("Expedite cleared")
    HANDOFF_CREATED = "handoff_created", _("Hand-off created")
    HANDOFF_CHANGED = "handoff_changed", _("Hand-off updated")
    NOTE_ADDED = "note_added", _("Note")
    AT_RISK = "at_risk", _("Flagged at risk")
    RISK_CLEARED = "risk_cleared", _("No longer at risk")
    EXPEDITE_REMINDED = "expedite_reminded", _("Expedite reminder sent")


class CustomerEventType(models.TextChoices):
    CREATED = "created", _("Customer created")
    UPDATED = "updated", _("Customer details changed")
    EXTERNAL_REF_ADDED = "external_ref_added", _("External reference added")
