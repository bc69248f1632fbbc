"""Remedies: refund, replacement, goodwill credit or gift, extra help, information only.

A remedy is proposed, then accepted or declined by the customer; a declined one invites an
alternative. Which remedies a category offers is in ``enums.CATEGORY_REMEDIES``. How much a
tier may grant is checked in exactly one place, ``check_authority`` (the escalation issue turns
a "no" there into an approval request).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from fulfillment import clock
from fulfillment.actors import Actor, ActorKind, as_actor
from fulfillment.errors import InvalidInput, PermissionDenied, TransitionNotAllowed
from fulfillment.permissions import require
from fulfillment.tiers import Tier
from orders import services as order_services
from orders.models import Order
from orders.services import LineInput
from orders.services._common import SHIPPING_FIELDS

from .. import events
from .. import permissions as perms
from ..enums import (
    CATEGORY_REMEDIES,
    REMEDY_NEEDS_ORDER,
    REMEDY_TRANSITIONS,
    REMEDY_WITH_AMOUNT,
    RemedyKind,
    RemedyState,
)
from ..models import Inquiry, InquiryOrder, Remedy
from ._common import clean_text, lock, require_workable, save

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")

#: Highest amount per tier and kind; ``None`` = no limit; a kind missing = not allowed.
#: Replacement and extra help carry no amount: True = may grant.
AUTHORITY: dict[int, dict[str, Decimal | bool | None]] = {
    Tier.REP: {
        RemedyKind.REFUND: Decimal("100.00"),
        RemedyKind.CREDIT: Decimal("50.00"),
        RemedyKind.GIFT: Decimal("50.00"),
        RemedyKind.REPLACEMENT: True,
        RemedyKind.EXTRA_HELP: True,
        RemedyKind.INFORMATION: True,
    },
    Tier.SENIOR_REP: {
        RemedyKind.REFUND: Decimal("500.00"),
        RemedyKind.CREDIT: Decimal("200.00"),
        RemedyKind.GIFT: Decimal("200.00"),
        RemedyKind.REPLACEMENT: True,
        RemedyKind.EXTRA_HELP: True,
        RemedyKind.INFORMATION: True,
    },
    Tier.SPECIALIST: {
        RemedyKind.REFUND: Decimal("1000.00"),
        RemedyKind.CREDIT: Decimal("500.00"),
        RemedyKind.GIFT: Decimal("500.00"),
        RemedyKind.REPLACEMENT: True,
        RemedyKind.EXTRA_HELP: True,
        RemedyKind.INFORMATION: True,
    },
    Tier.SUPERVISOR: dict.fromkeys(RemedyKind.values),
}


def check_authority(actor: Actor, kind: str, amount: Decimal | None) -> None:
    """THE authority check for remedies: may this actor grant this remedy of this size?"""
    if actor.kind == ActorKind.SYSTEM:
        return
    limits = AUTHORITY.get(actor.tier or 0, {})
    if kind not in limits:
        raise PermissionDenied(_("Your role may not grant this remedy."))
    limit = limits[kind]
    if isinstance(limit, Decimal) and amount is not None and amount > limit:
        raise PermissionDenied(
            _("%(amount)s is above your limit of %(limit)s for this remedy. Escalate to a senior colleague.")
            % {"amount": amount, "limit": limit}
        )


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidInput(field_errors={"amount": [_("Enter an amount, e.g. 12.50.")]}) from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidInput(field_errors={"amount": [_("The amount must be more than zero.")]})
    if amount > MAX_AMOUNT:
        raise InvalidInput(field_errors={"amount": [_("The amount is too large.")]})
    if amount != amount.quantize(CENT):
        raise InvalidInput(field_errors={"amount": [_("Use at most two decimal places.")]})
    return amount


def offered_kinds(inquiry: Inquiry) -> tuple[str, ...]:
    return CATEGORY_REMEDIES.get(inquiry.category, (RemedyKind.INFORMATION,))


def remedy_propose(
    *,
    actor: Actor,
    inquiry: Inquiry,
    kind: str,
    reason: str,
    amount=None,
    order: Order | None = None,
    description: str = "",
    alternative_to: Remedy | None = None,
) -> Remedy:
    actor = as_actor(actor)
    require(actor, perms.REMEDY)
    if kind not in RemedyKind.values:
        raise InvalidInput(field_errors={"kind": [_("Choose one of the offered remedies.")]})
    reason = clean_text(reason, "reason", 500, required=True)
    description = clean_text(description, "description", 500)
    if kind in REMEDY_WITH_AMOUNT:
        if amount in (None, ""):
            raise InvalidInput(field_errors={"amount": [_("Enter the amount.")]})
        amount = _amount(amount)
    else:
        amount = None
    if kind in REMEDY_NEEDS_ORDER and order is None:
        raise InvalidInput(field_errors={"order": [_("Choose the order this remedy is for.")]})
    with transaction.atomic():
        inquiry = lock(inquiry)
        require_workable(actor, inquiry)
        if kind not in offered_kinds(inquiry):
            raise InvalidInput(
                field_errors={
                    "kind": [
                        _("A %(kind)s is not offered for %(category)s inquiries.")
                        % {"kind": RemedyKind(kind).label.lower(), "category": inquiry.get_category_display()}
                    ]
                }
            )
        if order is not None:
            if not InquiryOrder.objects.filter(inquiry=inquiry, order=order).exists():
                raise InvalidInput(field_errors={"order": [_("Link the order to this inquiry first.")]})
            order = Order.objects.get(pk=order.pk)
            if kind == RemedyKind.REFUND and amount > order.balance_paid:
                raise InvalidInput(
                    field_errors={
                        "amount": [
                            _("At most %(amount)s %(currency)s can be refunded.")
                            % {"amount": order.balance_paid, "currency": order.currency}
                        ]
                    }
                )
        if alternative_to is not None:
            alternative_to = Remedy.objects.filter(pk=alternative_to.pk).first()
        if alternative_to is not None and (
            alternative_to.inquiry_id != inquiry.pk or alternative_to.state != RemedyState.DECLINED
        ):
            raise InvalidInput(field_errors={"alternative_to": [_("An alternative follows a declined remedy.")]})
        check_authority(actor, kind, amount)
        remedy = Remedy.objects.create(
            inquiry=inquiry,
            order=order,
            kind=kind,
            amount=amount,
            currency=(order.currency if order else settings.FD_DEFAULT_CURRENCY) if amount is not None else "",
            description=description,
            reason=reason,
            alternative_to=alternative_to,
            proposed_by_name=actor.name[:150],
        )
        events.remedy_proposed(inquiry, actor, remedy=remedy)
        save(inquiry, [])
    return remedy


def _execute(remedy: Remedy, actor: Actor) -> dict:
    """Carry out an accepted remedy; returns what was done, for the timeline."""
    if remedy.kind == RemedyKind.REFUND:
        payment = order_services.order_refund(
            actor=actor,
            order=remedy.order,
            amount=remedy.amount,
            reason=remedy.reason,
            reference=remedy.inquiry.reference,
            pre_authorized=True,
        )
        remedy.refund_payment = payment
        return {"refunded": str(remedy.amount), "currency": remedy.currency, "order": str(remedy.order)}
    if remedy.kind == RemedyKind.REPLACEMENT:
        original = remedy.order
        lines = [
            LineInput(sku=line.sku, quantity=line.quantity, unit_price=Decimal("0.00"), description=line.description)
            for line in original.lines.all()
        ]
        replacement = order_services.order_create(
            actor=actor,
            customer=original.customer,
            lines=lines,
            currency=original.currency,
            shipping={name: getattr(original, name) for name in SHIPPING_FIELDS},
        )
        order_services.order_add_note(
            actor=actor,
            order=replacement,
            text=_("Replacement for %(order)s (%(reference)s)")
            % {"order": original, "reference": remedy.inquiry.reference},
        )
        InquiryOrder.objects.get_or_create(inquiry=remedy.inquiry, order=replacement)
        events.order_linked(remedy.inquiry, actor, number=str(replacement))
        remedy.replacement_order = replacement
        return {"replacement_order": str(replacement)}
    return {}


def remedy_decide(*, actor: Actor, remedy: Remedy, state: str, note: str = "") -> Remedy:
    """Record the customer's answer (accepted / declined) or withdraw the offer. An accepted
    refund or replacement is carried out in the same transaction."""
    actor = as_actor(actor)
    require(actor, perms.REMEDY)
    note = clean_text(note, "note", 500)
    with transaction.atomic():
        inquiry = lock(remedy.inquiry_id)
        require_workable(actor, inquiry)
        remedy = Remedy.objects.select_for_update(of=("self",)).select_related("order", "inquiry").get(pk=remedy.pk)
        allowed = REMEDY_TRANSITIONS.get(remedy.state, frozenset())
        if state not in allowed:
            raise TransitionNotAllowed(
                current=remedy.state, requested=state, allowed=allowed, labels=dict(RemedyState.choices)
            )
        outcome = {}
        if state == RemedyState.ACCEPTED:
            check_authority(actor, remedy.kind, remedy.amount)
            outcome = _execute(remedy, actor)
        remedy.state = state
        remedy.decided_at = clock.now()
        remedy.decided_by_name = actor.name[:150]
        remedy.decision_note = note
        remedy.save(
            update_fields=[
                "state",
                "decided_at",
                "decided_by_name",
                "decision_note",
                "refund_payment",
                "replacement_order",
            ]
        )
        events.remedy_decided(inquiry, actor, remedy=remedy, outcome=outcome)
        save(inquiry, [])
    return remedy
