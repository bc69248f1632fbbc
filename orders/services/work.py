"""Expedite requests, notes and department hand-offs."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from fulfillment import clock
from fulfillment.actors import Actor, as_actor
from fulfillment.errors import InvalidInput, TransitionNotAllowed
from fulfillment.permissions import require

from .. import events
from .. import permissions as perms
from ..enums import (
    EXPEDITABLE,
    HANDOFF_TRANSITIONS,
    Department,
    HandoffState,
)
from ..models import (
    Handoff,
    Order,
)
from ._common import (
    _clean_text,
    _lock_order,
    _touch,
)

# --- orders: expedite, notes, hand-offs -----------------------------------------------------


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
