"""Remedies: refund, replacement, goodwill credit or gift, extra help, information only.

A remedy is proposed, then accepted or declined by the customer; a declined one invites an
alternative. Which remedies a category offers is in ``enums.CATEGORY_REMEDIES``. How much a
tier may grant is the ``AuthorityLimit`` table, read by one rule, ``may_grant``. A remedy above
the proposer's authority is not refused: it becomes an approval request to the lowest tier that
may grant it, and ``remedy_approve`` (which carries it out, at the asked or a changed amount) or
``remedy_deny`` answers it. Nobody approves their own request.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from fulfillment import clock
from fulfillment.actors import Actor, ActorKind, as_actor
from fulfillment.errors import Conflict, InvalidInput, PermissionDenied, TransitionNotAllowed
from fulfillment.permissions import require
from fulfillment.tiers import Tier
from orders import services as order_services
from orders.models import Order
from orders.services import LineInput
from orders.services._common import SHIPPING_FIELDS

from .. import events
from .. import permissions as perms
from ..enums import (
    APPROVAL_MOVES,
    CATEGORY_REMEDIES,
    REMEDY_NEEDS_ORDER,
    REMEDY_TRANSITIONS,
    REMEDY_WITH_AMOUNT,
    RemedyKind,
    RemedyState,
)
from ..models import AuthorityLimit, Inquiry, InquiryOrder, Remedy
from ._common import clean_text, lock, require_workable, save

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")

#: The authority a tier has when nobody has configured it yet (migration 0011 writes these rows).
DEFAULT_LIMITS: dict[int, dict] = {
    Tier.REP: {"max_refund": Decimal("100.00"), "max_credit": Decimal("50.00")},
    Tier.SENIOR_REP: {"max_refund": Decimal("500.00"), "max_credit": Decimal("200.00")},
    Tier.SPECIALIST: {"max_refund": Decimal("1000.00"), "max_credit": Decimal("500.00")},
    Tier.SUPERVISOR: {"max_refund": None, "max_credit": None},
}


def _limits() -> dict[int, AuthorityLimit]:
    return {row.tier: row for row in AuthorityLimit.objects.all()}


def may_grant(limit: AuthorityLimit | None, kind: str, amount: Decimal | None) -> bool:
    """THE authority rule: may a tier with ``limit`` grant this remedy of this size?"""
    if kind == RemedyKind.INFORMATION:
        return True
    if limit is None:
        return False
    if kind == RemedyKind.REPLACEMENT:
        return limit.may_replace
    if kind == RemedyKind.EXTRA_HELP:
        return limit.may_extra_help
    ceiling = limit.max_refund if kind == RemedyKind.REFUND else limit.max_credit
    return ceiling is None or amount is None or amount <= ceiling


def approval_tier(kind: str, amount: Decimal | None, *, limits: dict[int, AuthorityLimit] | None = None) -> int | None:
    """The lowest tier that may approve this remedy: one that answers approval requests
    (``permissions.APPROVE``) and whose limit grants it. None: no tier may."""
    limits = _limits() if limits is None else limits
    approvers = (tier for tier in sorted(Tier.values) if tier >= perms.APPROVE.min_tier)
    return next((tier for tier in approvers if may_grant(limits.get(tier), kind, amount)), None)


def _refusal(kind: str, amount: Decimal | None, limit: AuthorityLimit | None) -> str:
    if kind in REMEDY_WITH_AMOUNT and limit is not None and amount is not None:
        ceiling = limit.max_refund if kind == RemedyKind.REFUND else limit.max_credit
        return _("%(amount)s is above your limit of %(limit)s for this remedy.") % {"amount": amount, "limit": ceiling}
    return _("Your role may not grant this remedy.")


def check_authority(actor: Actor, kind: str, amount: Decimal | None) -> None:
    """Refuse unless this actor may grant this remedy of this size (the system always may)."""
    if actor.kind == ActorKind.SYSTEM:
        return
    limit = AuthorityLimit.objects.filter(tier=actor.tier or 0).first()
    if not may_grant(limit, kind, amount):
        raise PermissionDenied(_refusal(kind, amount, limit))


def needs_approval(actor: Actor, kind: str, amount: Decimal | None) -> int | None:
    """None when the actor may grant it; else the tier to ask. No tier at all: refused."""
    if actor.kind == ActorKind.SYSTEM:
        return None
    limits = _limits()
    if may_grant(limits.get(actor.tier or 0), kind, amount):
        return None
    tier = approval_tier(kind, amount, limits=limits)
    if tier is None or actor.tier is None:
        raise PermissionDenied(_("No tier may grant this remedy: ask an administrator to set the authority limits."))
    return tier


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
        ask = needs_approval(actor, kind, amount)
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
            proposed_by=actor.user,
            state=RemedyState.PENDING_APPROVAL if ask else RemedyState.PROPOSED,
            approval_tier=ask,
        )
        if ask:
            events.approval_requested(inquiry, actor, remedy=remedy)
        else:
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
        if remedy.state == RemedyState.PENDING_APPROVAL:
            allowed = allowed - APPROVAL_MOVES  # only an approver answers a request
        if state not in allowed:
            raise TransitionNotAllowed(
                current=remedy.state, requested=state, allowed=allowed, labels=dict(RemedyState.choices)
            )
        outcome = {}
        if state == RemedyState.ACCEPTED:
            # Authority was settled when it was proposed (or approved): the customer's "yes",
            # recorded by whoever took the call, carries it out.
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


# --- approvals -----------------------------------------------------------------------------------


def _lock_request(actor: Actor, remedy: Remedy) -> tuple[Inquiry, Remedy]:
    inquiry = lock(remedy.inquiry_id)
    remedy = Remedy.objects.select_for_update(of=("self",)).select_related("order", "inquiry").get(pk=remedy.pk)
    if remedy.state != RemedyState.PENDING_APPROVAL:
        if remedy.state in APPROVAL_MOVES:
            approver = remedy.approved_by
            name = (approver.get_full_name() or approver.get_username()) if approver else remedy.decided_by_name
            raise Conflict(
                _("%(name)s already answered this request: %(state)s.")
                % {"name": name or "?", "state": remedy.get_state_display().lower()}
            )
        raise Conflict(_("This request is no longer waiting: %(state)s.") % {"state": remedy.get_state_display()})
    if actor.user is not None and remedy.proposed_by_id == actor.user.pk:
        raise PermissionDenied(_("Nobody approves their own request: another colleague must decide."))
    if actor.kind == ActorKind.USER and (actor.tier or 0) < remedy.approval_tier:
        raise PermissionDenied(
            _("This request needs the %(tier)s tier or above.") % {"tier": Tier(remedy.approval_tier).label}
        )
    require_workable(actor, inquiry)
    return inquiry, remedy


def _answer(remedy: Remedy, actor: Actor, state: str, note: str, *, extra: Sequence[str] = ()) -> None:
    """Record the approver's answer on the request (and ``extra`` fields set before)."""
    remedy.state = state
    remedy.decided_at = remedy.approval_decided_at = clock.now()
    remedy.decided_by_name = actor.name[:150]
    remedy.approved_by = actor.user
    remedy.approval_note = note
    fields = ["state", "decided_at", "approval_decided_at", "decided_by_name", "approved_by", "approval_note"]
    remedy.save(update_fields=[*fields, *extra])


def remedy_approve(*, actor: Actor, remedy: Remedy, amount=None, note: str = "") -> Remedy:
    """Approve a request: the remedy is carried out at once (the refund is made, the
    replacement order created), at the asked amount or at ``amount``, which must be within the
    approver's own authority."""
    actor = as_actor(actor)
    require(actor, perms.APPROVE)
    note = clean_text(note, "note", 500)
    changed = None if amount in (None, "") else _amount(amount)
    with transaction.atomic():
        inquiry, remedy = _lock_request(actor, remedy)
        if changed is not None and remedy.kind not in REMEDY_WITH_AMOUNT:
            raise InvalidInput(field_errors={"amount": [_("This remedy has no amount.")]})
        if changed is not None and changed != remedy.amount:
            if remedy.kind == RemedyKind.REFUND and changed > remedy.order.balance_paid:
                raise InvalidInput(
                    field_errors={
                        "amount": [
                            _("At most %(amount)s %(currency)s can be refunded.")
                            % {"amount": remedy.order.balance_paid, "currency": remedy.order.currency}
                        ]
                    }
                )
            remedy.requested_amount, remedy.amount = remedy.amount, changed
        check_authority(actor, remedy.kind, remedy.amount)  # the approver's own limit
        outcome = _execute(remedy, actor)
        _answer(
            remedy,
            actor,
            RemedyState.ACCEPTED,
            note,
            extra=["amount", "requested_amount", "refund_payment", "replacement_order"],
        )
        events.remedy_approved(inquiry, actor, remedy=remedy, outcome=outcome)
        save(inquiry, [])
    return remedy


def remedy_deny(*, actor: Actor, remedy: Remedy, note: str) -> Remedy:
    """Refuse a request, with a note back to whoever asked (it is on the inquiry's timeline)."""
    actor = as_actor(actor)
    require(actor, perms.APPROVE)
    note = clean_text(note, "note", 500, required=True)
    with transaction.atomic():
        inquiry, remedy = _lock_request(actor, remedy)
        _answer(remedy, actor, RemedyState.DENIED, note)
        events.remedy_denied(inquiry, actor, remedy=remedy)
        save(inquiry, [])
    return remedy
