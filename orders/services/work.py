"""Expedite requests, notes and department hand-offs; the at-risk flag.

An expedited order is reminded about on a schedule until it ships: ``order_request_expedite``
asks for an ``inquiries.expedite_reminder`` job (the handler, the people told and the interval
from the scheduled-work settings live in the inquiries app, which may read orders — not the
other way round); ``order_clear_expedite`` cancels the pending one. ``order_flag_at_risk`` is
called by the reminders sweep for an order past its ship-by or deliver-by date and asks for an
``inquiries.order_at_risk`` job (docs/reminders.md)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from fulfillment import clock, scheduling
from fulfillment.actors import Actor, as_actor
from fulfillment.errors import InvalidInput, TransitionNotAllowed
from fulfillment.permissions import require

from .. import events
from .. import permissions as perms
from ..enums import (
    EXPEDITABLE,
    HANDOFF_TRANSITIONS,
    NOT_DELIVERED,
    NOT_SHIPPED,
    Department,
    HandoffState,
    OrderEventType,
    RiskReason,
)
from ..models import (
    Handoff,
    Order,
    OrderEvent,
)
from ._common import (
    _clean_text,
    _lock_order,
    _touch,
)

#: Job kinds this app asks for and the inquiries app handles (inquiries/jobs/reminders.py).
EXPEDITE_REMINDER_JOB = "inquiries.expedite_reminder"
ORDER_AT_RISK_JOB = "inquiries.order_at_risk"

# --- orders: expedite, notes, hand-offs -----------------------------------------------------


def expedite_reminder_number(order: Order) -> int:
    """How many expedite requests and reminders the order has had: the next reminder's number
    in its job key (``expedite:<order>:<n>``), so every request starts a chain of its own."""
    return OrderEvent.objects.filter(
        order=order, type__in=[OrderEventType.EXPEDITE_REQUESTED, OrderEventType.EXPEDITE_REMINDED]
    ).count()


def schedule_expedite_reminder(order: Order, *, n: int, due_at: dt.datetime, start: bool = False) -> None:
    """Ask for the ``n``-th expedite reminder of ``order`` at ``due_at``. ``start``: the job that
    starts a chain (``expedite:<order>:<n>:start``, due at once) reads the interval from the
    settings and asks for the first reminder, number n + 1."""
    scheduling.schedule(
        kind=EXPEDITE_REMINDER_JOB,
        key=f"expedite:{order.pk}:{n}" + (":start" if start else ""),
        due_at=due_at,
        ref=f"order:{order.pk}",
        payload={
            "order": order.pk,
            "n": n,
            "requested_at": order.expedite_requested_at.isoformat() if order.expedite_requested_at else "",
            "start": start,
        },
    )


def order_request_expedite(*, actor: Actor, order: Order, reason: str, requested_by: str) -> Order:
    actor = as_actor(actor)
    require(actor, perms.EXPEDITE)
    reason = _clean_text(reason, "reason", 500, required=True)
    requested_by = _clean_text(requested_by, "requested_by", 150, required=True)
    with transaction.atomic():
        order = _lock_order(order)
        if order.status not in EXPEDITABLE:
            raise InvalidInput(_("Only an order on its way can be expedited."))
        order.expedite = True
        order.expedite_reason = reason
        order.expedite_requested_by = requested_by
        order.expedite_requested_at = clock.now()
        _touch(order, ["expedite", "expedite_reason", "expedite_requested_by", "expedite_requested_at"])
        events.expedite_requested(order, actor, reason=reason, requested_by=requested_by)
        # a new request restarts the reminders: the previous chain's pending one is cancelled
        scheduling.cancel(ref=f"order:{order.pk}", kind=EXPEDITE_REMINDER_JOB)
        schedule_expedite_reminder(order, n=expedite_reminder_number(order), due_at=clock.now(), start=True)
    return order


def order_clear_expedite(*, actor: Actor, order: Order, reason: str = "") -> Order:
    actor = as_actor(actor)
    require(actor, perms.EXPEDITE)
    reason = _clean_text(reason, "reason", 500)
    with transaction.atomic():
        order = _lock_order(order)
        if not order.expedite:
            raise InvalidInput(_("This order is not being expedited."))
        order.expedite = False
        _touch(order, ["expedite"])
        events.expedite_cleared(order, actor, reason=reason)
        scheduling.cancel(ref=f"order:{order.pk}", kind=EXPEDITE_REMINDER_JOB)
    return order


def order_expedite_reminded(*, actor: Actor, order: Order, told: list[str], n: int) -> Order:
    """Record the ``n``-th expedite reminder on the order's timeline (who was told); like every
    timeline entry of an order, it moves the order's version."""
    actor = as_actor(actor)
    require(actor, perms.EXPEDITE)
    with transaction.atomic():
        order = _lock_order(order)
        _touch(order, [])
        events.expedite_reminded(order, actor, told=told, number=n)
    return order


def risk_now(order: Order, today: dt.date) -> str:
    """Why ``order`` is at risk on ``today`` ("" if it is not): past its deliver-by date and not
    delivered (this wins: it is the date the customer was given), else past its ship-by date and
    not shipped."""
    if order.status in NOT_DELIVERED and order.deliver_by and order.deliver_by < today:
        return RiskReason.NOT_DELIVERED
    if order.status in NOT_SHIPPED and order.ship_by and order.ship_by < today:
        return RiskReason.NOT_SHIPPED
    return ""


def order_flag_at_risk(*, actor: Actor, order: Order | int, reason: str) -> Order | None:
    """Flag the order at risk for ``reason`` (a ``RiskReason``), with an AT_RISK event, and ask
    for the ``inquiries.order_at_risk`` job (the rep told, the customer update). Nothing happens
    (None) when, under the row lock, that is no longer its risk or it is flagged so already."""
    actor = as_actor(actor)
    require(actor, perms.FULFIL)
    if reason not in RiskReason.values:
        raise InvalidInput(field_errors={"reason": [_("Choose one of the offered values.")]})
    with transaction.atomic():
        order = _lock_order(order)
        if risk_now(order, clock.today()) != reason or (order.risk_flagged_at and order.risk_reason == reason):
            return None
        order.risk_flagged_at, order.risk_reason = clock.now(), reason
        _touch(order, ["risk_flagged_at", "risk_reason"])
        date = order.deliver_by if reason == RiskReason.NOT_DELIVERED else order.ship_by
        events.flagged_at_risk(order, actor, reason=reason, date=date.isoformat())
        scheduling.schedule(
            kind=ORDER_AT_RISK_JOB,
            key=f"at-risk:{order.pk}:{reason}",
            due_at=order.risk_flagged_at,
            ref=f"order:{order.pk}",
            payload={"order": order.pk, "reason": reason},
        )
    return order


def order_add_note(*, actor: Actor, order: Order, text: str) -> Order:
    actor = as_actor(actor)
    require(actor, perms.NOTE)
    text = _clean_text(text, "text", 5000, required=True)
    with transaction.atomic():
        order = _lock_order(order)
        _touch(order, [])
        events.note_added(order, actor, text=text)
    return order


def handoff_create(
    *, actor: Actor, order: Order, department: str, summary: str, owner=None, due_date: dt.date | None = None
) -> Handoff:
    """Hand work to another department, with an owner and a due date."""
    actor = as_actor(actor)
    require(actor, perms.HANDOFF)
    if department not in Department.values:
        raise InvalidInput(field_errors={"department": [_("Choose one of the offered departments.")]})
    summary = _clean_text(summary, "summary", 500, required=True)
    if owner is not None and not owner.is_active:
        raise InvalidInput(field_errors={"owner": [_("This person can no longer take work.")]})
    if due_date and due_date < clock.today():
        raise InvalidInput(field_errors={"due_date": [_("The due date is in the past.")]})
    with transaction.atomic():
        order = _lock_order(order)
        now = clock.now()
        handoff = Handoff.objects.create(
            order=order,
            department=department,
            summary=summary,
            owner=owner,
            due_date=due_date,
            created_at=now,
            updated_at=now,
            created_by_name=actor.name[:150],
        )
        _touch(order, [])
        events.handoff_created(order, actor, handoff=handoff)
    return handoff


def handoff_set_state(*, actor: Actor, handoff: Handoff, state: str, note: str = "") -> Handoff:
    actor = as_actor(actor)
    require(actor, perms.HANDOFF)
    note = _clean_text(note, "note", 500)
    with transaction.atomic():
        order = _lock_order(handoff.order_id)
        handoff = Handoff.objects.select_for_update().get(pk=handoff.pk)
        allowed = HANDOFF_TRANSITIONS.get(handoff.state, frozenset())
        if state not in allowed:
            raise TransitionNotAllowed(
                current=handoff.state, requested=state, allowed=allowed, labels=dict(HandoffState.choices)
            )
        old = handoff.state
        now = clock.now()
        handoff.state, handoff.updated_at = state, now
        handoff.completed_at = now if state == HandoffState.DONE else None
        handoff.save(update_fields=["state", "updated_at", "completed_at"])
        _touch(order, [])
        events.handoff_changed(order, actor, handoff=handoff, old=old, new=state, note=note)
    return handoff
