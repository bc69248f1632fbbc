"""API shape of an escalation. Built by a plain function from rows already loaded (no queries);
the serializer classes describe the same shape for the OpenAPI schema.

A coaching note's words are never part of it: API clients are systems outside the desk, and a
note is for the person coached and those above them (``selectors.may_read_coaching``). The
representation says only whether there was one (``coached``).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from fulfillment.tiers import Specialty, Tier
from inquiries.models import reference_for
from orders.api.serializers import _dt

from ..enums import Kind, Outcome, Reason
from ..models import Escalation

_PERSON = ("username", "first_name", "last_name")

#: The columns ``escalation_dict`` reads (never ``coaching_note``); ``coached`` is annotated.
COLUMNS = (
    "id",
    "inquiry__id",
    "kind",
    "from_tier",
    "to_tier",
    "specialty",
    "actor_name",
    "reason",
    "reason_text",
    "tried",
    "skip_reason",
    "rule__id",
    "rule__name",
    "customer_told",
    "created_at",
    "from_tier_seconds",
    "taken_at",
    "outcome",
    "outcome_tier",
    "outcome_note",
    "closed_at",
    "closed_by_name",
    "seconds_at_tier",
    "updated_at",
    *(f"{person}__{field}" for person in ("from_user", "to_user", "taken_by") for field in _PERSON),
)

# --- output (documentation of the dict built below) -----------------------------------------


class InquiryRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()


class RuleRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


def _person(**kwargs) -> serializers.CharField:
    return serializers.CharField(allow_null=True, **kwargs)


class EscalationOut(serializers.Serializer):
    id = serializers.IntegerField()
    inquiry = InquiryRefOut()
    kind = serializers.ChoiceField(choices=Kind.choices, help_text=_("manual (by a person) or automatic (a rule)."))
    from_tier = serializers.ChoiceField(choices=Tier.choices, help_text=_("The tier it left."))
    to_tier = serializers.ChoiceField(choices=Tier.choices, help_text=_("The tier it went to."))
    specialty = serializers.ChoiceField(
        choices=Specialty.choices,
        allow_blank=True,
        help_text=_("For a specialist escalation: billing, technical, shipping or returns; empty otherwise."),
    )
    escalated_by = _person(help_text=_("The staff member who escalated; null when a rule did."))
    actor_name = serializers.CharField(help_text=_('Who escalated: a username, or "rule: <rule name>".'))
    to_user = _person(help_text=_("The person it was sent to; null: the tier's queue."))
    reason = serializers.ChoiceField(choices=Reason.choices)
    reason_text = serializers.CharField(allow_blank=True)
    tried = serializers.CharField(allow_blank=True, help_text=_("What was tried before escalating."))
    skip_reason = serializers.CharField(allow_blank=True, help_text=_("Why a tier was skipped; empty if none was."))
    skipped = serializers.BooleanField(help_text=_("A tier was skipped (skip_reason says why)."))
    rule = RuleRefOut(allow_null=True, help_text=_("The automatic-escalation rule that fired; null if by hand."))
    customer_told = serializers.BooleanField(help_text=_("The customer was sent the escalation notice."))
    created_at = serializers.DateTimeField()
    from_tier_seconds = serializers.IntegerField(help_text=_("Seconds the inquiry had spent at from_tier."))
    taken_by = _person(help_text=_("The reviewer who took it over at to_tier."))
    taken_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.ChoiceField(
        choices=Outcome.choices, allow_blank=True, help_text=_("Empty while the inquiry is still at to_tier.")
    )
    outcome_tier = serializers.ChoiceField(
        choices=Tier.choices, allow_null=True, help_text=_("The tier it went to when it left to_tier.")
    )
    outcome_note = serializers.CharField(allow_blank=True)
    closed_by = serializers.CharField(allow_blank=True, help_text=_("Who moved it on from to_tier."))
    closed_at = serializers.DateTimeField(allow_null=True, help_text=_("When it left to_tier; null while open."))
    seconds_at_tier = serializers.IntegerField(
        allow_null=True, help_text=_("Seconds spent at to_tier; null while it is still there.")
    )
    coached = serializers.BooleanField(
        help_text=_("Returned with a coaching note. The note itself is shown only inside the desk.")
    )
    updated_at = serializers.DateTimeField()


def _name(user) -> str | None:
    return (user.get_full_name() or user.get_username()) if user is not None else None


def escalation_dict(escalation: Escalation) -> dict:
    """An escalation loaded with ``COLUMNS`` (its people and rule joined) and annotated with
    ``coached``."""
    e, rule = escalation, escalation.rule
    return {
        "id": e.pk,
        "inquiry": {"id": e.inquiry_id, "reference": reference_for(e.inquiry_id)},
        "kind": e.kind,
        "from_tier": e.from_tier,
        "to_tier": e.to_tier,
        "specialty": e.specialty,
        "escalated_by": _name(e.from_user),
        "actor_name": e.actor_name,
        "to_user": _name(e.to_user),
        "reason": e.reason,
        "reason_text": e.reason_text,
        "tried": e.tried,
        "skip_reason": e.skip_reason,
        "skipped": e.skipped,
        "rule": {"id": rule.pk, "name": rule.name} if rule is not None else None,
        "customer_told": e.customer_told,
        "created_at": _dt(e.created_at),
        "from_tier_seconds": e.from_tier_seconds,
        "taken_by": _name(e.taken_by),
        "taken_at": _dt(e.taken_at),
        "outcome": e.outcome,
        "outcome_tier": e.outcome_tier,
        "outcome_note": e.outcome_note,
        "closed_by": e.closed_by_name,
        "closed_at": _dt(e.closed_at),
        "seconds_at_tier": e.seconds_at_tier,
        "coached": e.coached,
        "updated_at": _dt(e.updated_at),
    }
