"""Resolution plans: an ordered checklist of steps, each with an owner and a due date."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from fulfillment import clock
from fulfillment.actors import Actor, as_actor
from fulfillment.errors import InvalidInput
from fulfillment.permissions import require

from .. import events
from .. import permissions as perms
from ..models import Inquiry, PlanStep
from ._common import clean_text, lock, refresh_plan, require_workable, save

MAX_STEPS = 50
PLAN_FIELDS = ["plan_steps_total", "plan_steps_done", "next_step_due"]


def plan_step_add(
    *, actor: Actor, inquiry: Inquiry, title: str, owner=None, due_date: dt.date | None = None
) -> PlanStep:
    actor = as_actor(actor)
    require(actor, perms.WORK)
    title = clean_text(title, "title", 300, required=True)
    if owner is not None and (not owner.is_active or not owner.tier):
        raise InvalidInput(field_errors={"owner": [_("This person cannot take work.")]})
    if due_date and due_date < clock.today():
        raise InvalidInput(field_errors={"due_date": [_("The due date is in the past.")]})
    with transaction.atomic():
        inquiry = lock(inquiry)
        require_workable(actor, inquiry)
        if inquiry.plan_steps_total >= MAX_STEPS:
            raise InvalidInput(field_errors={"title": [_("A plan has at most %(n)d steps.") % {"n": MAX_STEPS}]})
        position = (PlanStep.objects.filter(inquiry=inquiry).aggregate(p=Max("position"))["p"] or 0) + 1
        step = PlanStep.objects.create(
            inquiry=inquiry, position=position, title=title, owner=owner or actor.user, due_date=due_date
        )
        events.plan_step_added(inquiry, actor, step=step)
        refresh_plan(inquiry)
        save(inquiry, PLAN_FIELDS)
    return step


def plan_step_set_done(*, actor: Actor, step: PlanStep, done: bool = True) -> PlanStep:
    """Tick a step off (or reopen it)."""
    actor = as_actor(actor)
    require(actor, perms.WORK)
    with transaction.atomic():
        inquiry = lock(step.inquiry_id)
        require_workable(actor, inquiry)
        step = PlanStep.objects.select_for_update().get(pk=step.pk)
        if step.is_done == done:
            raise InvalidInput(_("This step is already done.") if done else _("This step is still open."))
        step.done_at = clock.now() if done else None
        step.done_by_name = actor.name[:150] if done else ""
        step.save(update_fields=["done_at", "done_by_name"])
        if done:
            events.plan_step_done(inquiry, actor, step=step)
        else:
            events.plan_step_reopened(inquiry, actor, step=step)
        refresh_plan(inquiry)
        save(inquiry, PLAN_FIELDS)
    return step
