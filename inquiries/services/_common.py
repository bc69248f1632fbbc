"""Helpers shared by the inquiry services: locks, the permission to work an inquiry, the
plain deadlines and the one place that saves an inquiry (version, updated_at, due_at)."""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from fulfillment import clock
from fulfillment.actors import Actor, ActorKind
from fulfillment.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fulfillment.tiers import Tier
from orders.services._common import _clean_text as clean_text  # noqa: F401  (one rule for short texts)

from ..enums import ACTIVE, CallbackState, InquiryStatus, Priority
from ..models import Callback, Inquiry, PlanStep

#: Plain deadlines, in wall-clock hours, until the service-target issue brings business hours.
RESPONSE_HOURS = {Priority.URGENT: 1, Priority.HIGH: 4, Priority.NORMAL: 24, Priority.LOW: 72}
RESOLUTION_HOURS = {Priority.URGENT: 24, Priority.HIGH: 72, Priority.NORMAL: 120, Priority.LOW: 240}

MAX_BODY = 50_000
STATUS_LABELS = dict(InquiryStatus.choices)


def clean_body(value: str | None, field: str = "body") -> str:
    """A message text: kept exactly as written (only line endings normalised), never empty."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InvalidInput(field_errors={field: [_("This field is required.")]})
    if len(text) > MAX_BODY:
        raise InvalidInput(field_errors={field: [_("At most %(n)d characters.") % {"n": MAX_BODY}]})
    return text.strip("\n")


def lock(inquiry: Inquiry | int) -> Inquiry:
    pk = inquiry.pk if isinstance(inquiry, Inquiry) else inquiry
    try:
        return Inquiry.objects.select_for_update().get(pk=pk)
    except Inquiry.DoesNotExist:
        raise NotFound(_("This inquiry does not exist.")) from None


def check_version(inquiry: Inquiry, expected_version: int | None) -> None:
    if expected_version is not None and inquiry.version != expected_version:
        raise Conflict()


def require_workable(actor: Actor, inquiry: Inquiry) -> None:
    """Staff work inquiries at or below their own tier (the escalation issue moves them up)."""
    if actor.kind != ActorKind.USER:
        return
    tier = actor.tier
    if tier is None or inquiry.tier > tier:
        raise PermissionDenied(
            _("This inquiry is at the %(tier)s tier; you can work inquiries up to your own tier.")
            % {"tier": Tier(inquiry.tier).label}
        )


def response_due(priority: int, start: dt.datetime) -> dt.datetime:
    return start + dt.timedelta(hours=RESPONSE_HOURS.get(priority, 24))


def resolution_due(priority: int, start: dt.datetime) -> dt.datetime:
    return start + dt.timedelta(hours=RESOLUTION_HOURS.get(priority, 120))


def refresh_callbacks(inquiry: Inquiry) -> None:
    inquiry.next_callback_at = Callback.objects.filter(inquiry=inquiry, state=CallbackState.PENDING).aggregate(
        at=Min("due_at")
    )["at"]


def refresh_plan(inquiry: Inquiry) -> None:
    steps = list(PlanStep.objects.filter(inquiry=inquiry).values_list("done_at", "due_date"))
    inquiry.plan_steps_total = len(steps)
    inquiry.plan_steps_done = sum(1 for done_at, _due in steps if done_at is not None)
    open_dues = [due for done_at, due in steps if done_at is None and due is not None]
    inquiry.next_step_due = min(open_dues) if open_dues else None


def nearest_deadline(inquiry: Inquiry) -> dt.datetime | None:
    """The one column queues sort by: the nearest thing owed while the inquiry is active."""
    if inquiry.status not in ACTIVE:
        return None
    candidates = [inquiry.resolve_due_at, inquiry.next_callback_at]
    if inquiry.status != InquiryStatus.WAITING_CUSTOMER:
        candidates.append(inquiry.response_due_at)
    if inquiry.next_step_due:
        end_of_day = dt.datetime.combine(inquiry.next_step_due, dt.time(23, 59), tzinfo=timezone.get_current_timezone())
        candidates.append(end_of_day)
    present = [c for c in candidates if c is not None]
    return min(present) if present else None


def save(inquiry: Inquiry, fields: list[str]) -> None:
    """Save ``fields``, move version and updated_at on and keep ``due_at`` right."""
    inquiry.updated_at = clock.now()
    inquiry.due_at = nearest_deadline(inquiry)
    values = {name: getattr(inquiry, name) for name in {*fields, "due_at", "updated_at"}}
    Inquiry.objects.filter(pk=inquiry.pk).update(version=F("version") + 1, **values)
    inquiry.version += 1
