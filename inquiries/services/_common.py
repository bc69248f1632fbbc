"""Helpers shared by the inquiry services: locks, the permission to work an inquiry, the
one place that saves an inquiry (version, updated_at, and the deadlines from ``targets``)."""

from __future__ import annotations

from django.db.models import F, Min
from django.utils.translation import gettext as _

from fulfillment import clock
from fulfillment.actors import Actor, ActorKind
from fulfillment.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fulfillment.tiers import Tier
from orders.services._common import _clean_text as clean_text  # noqa: F401  (one rule for short texts)

from .. import events
from ..enums import CallbackState, InquiryStatus
from ..models import Callback, Inquiry, PlanStep
from . import targets

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


def save(inquiry: Inquiry, fields: list[str]) -> None:
    """Save ``fields``, move version and updated_at on, and bring the service-target clocks
    and deadlines (``due_at`` and friends) up to date from the inquiry's history."""
    inquiry.updated_at = clock.now()
    fields = [*fields, *targets.apply(inquiry, fields)]
    values = {name: getattr(inquiry, name) for name in {*fields, "updated_at"}}
    Inquiry.objects.filter(pk=inquiry.pk).update(version=F("version") + 1, **values)
    inquiry.version += 1
    events.saved(inquiry)  # its webhook events carry the saved version
