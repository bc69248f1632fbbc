"""Payments and refunds: the order's paid and refunded totals follow these rows."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from fulfillment.actors import Actor, as_actor
from fulfillment.errors import InvalidInput
from fulfillment.permissions import require

from .. import events
from .. import permissions as perms
from ..enums import (
    OrderStatus,
    PaymentKind,
)
from ..models import (
    Order,
    Payment,
)
from ._common import (
    MAX_MONEY,
    _clean_text,
    _lock_order,
    _money,
    _payment_status,
    _touch,
)

# --- orders: money ----------------------------------------------------------------------------


def order_record_payment(*, actor: Actor, order: Order, amount, reference: str = "") -> Payment:
    actor = as_actor(actor)
    require(actor, perms.PAYMENT)
    amount = _money(amount, "amount")
    reference = _clean_text(reference, "reference", 100)
    with transaction.atomic():
        order = _lock_order(order)
        if order.status == OrderStatus.CANCELLED:
            raise InvalidInput(_("A cancelled order takes no payments."))
        if order.paid_amount + amount > MAX_MONEY:
            raise InvalidInput(field_errors={"amount": [_("The amount is too large.")]})
        payment = Payment.objects.create(
            order=order, kind=PaymentKind.PAYMENT, amount=amount, reference=reference, actor_name=actor.name[:150]
        )
        order.paid_amount += amount
        order.payment_status = _payment_status(order.total, order.paid_amount, order.refunded_amount)
        _touch(order, ["paid_amount", "payment_status"])
        events.payment_recorded(order, actor, amount=amount, reference=reference)
    return payment


def order_refund(
    *, actor: Actor, order: Order, amount, reason: str, reference: str = "", pre_authorized: bool = False
) -> Payment:
    """Give money back. Never more than was paid and not yet refunded.

    ``pre_authorized``: the caller has already checked this actor's authority for this amount
    (an inquiry remedy does, against the tier's limit); otherwise the refund rule applies.
    """
    actor = as_actor(actor)
    if not pre_authorized:
        require(actor, perms.REFUND)
    amount = _money(amount, "amount")
    reason = _clean_text(reason, "reason", 500, required=True)
    reference = _clean_text(reference, "reference", 100)
    with transaction.atomic():
        order = _lock_order(order)
        refundable = order.paid_amount - order.refunded_amount
        if amount > refundable:
            raise InvalidInput(
                _("A refund cannot be more than what was paid and not yet refunded."),
                field_errors={
                    "amount": [
                        _("At most %(amount)s %(currency)s can be refunded.")
                        % {"amount": refundable, "currency": order.currency}
                    ]
                },
            )
        payment = Payment.objects.create(
            order=order,
            kind=PaymentKind.REFUND,
            amount=amount,
            reference=reference,
            note=reason,
            actor_name=actor.name[:150],
        )
        order.refunded_amount += amount
        order.payment_status = _payment_status(order.total, order.paid_amount, order.refunded_amount)
        _touch(order, ["refunded_amount", "payment_status"])
        events.refund_recorded(order, actor, amount=amount, reason=reason)
    return payment
