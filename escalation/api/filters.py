"""The API's escalation FilterSet: explicit field names and lookups; an empty or bad value is a
400 naming the parameter (``StrictFilterForm``), never "no filter"."""

from __future__ import annotations

import django_filters as filters
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

from fulfillment.tiers import Tier
from inquiries.models import parse_reference
from orders.api.views import StrictFilterForm, UtcDateTimeFilter
from orders.filters import MAX_ID, IdFilter

from ..enums import Kind, Outcome, Reason
from ..models import Escalation

BOOLEAN = [("true", "true"), ("false", "false")]


def _tier(name: str) -> filters.TypedChoiceFilter:
    return filters.TypedChoiceFilter(field_name=name, lookup_expr="exact", choices=Tier.choices, coerce=int, label=name)


class EscalationApiFilter(filters.FilterSet):
    inquiry = filters.CharFilter(
        method="filter_inquiry",
        max_length=20,
        label="inquiry",
        help_text=_("The inquiry's id (123) or reference (INQ-000123)."),
    )
    from_tier = _tier("from_tier")
    to_tier = _tier("to_tier")
    kind = filters.ChoiceFilter(field_name="kind", lookup_expr="exact", choices=Kind.choices, label="kind")
    reason = filters.ChoiceFilter(field_name="reason", lookup_expr="exact", choices=Reason.choices, label="reason")
    outcome = filters.ChoiceFilter(
        field_name="outcome",
        lookup_expr="exact",
        choices=Outcome.choices,
        label="outcome",
        help_text=_("How it left to_tier (open escalations have none: use open=true)."),
    )
    open = filters.ChoiceFilter(
        choices=BOOLEAN,
        method="filter_open",
        label="open",
        help_text=_("true: the inquiry is still at to_tier; false: it has moved on."),
    )
    rule = IdFilter(
        field_name="rule_id", lookup_expr="exact", label="rule", help_text=_("An automatic-escalation rule's id.")
    )
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte", label="created_after")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt", label="created_before")
    updated_after = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gt", label="updated_after")

    class Meta:
        model = Escalation
        fields: list[str] = []
        form = StrictFilterForm

    def filter_inquiry(self, queryset, name, value):
        pk = int(value) if value.isascii() and value.isdigit() else parse_reference(value)
        if pk is None or not 1 <= pk <= MAX_ID:
            raise ValidationError({"inquiry": [_("Give an inquiry id (123) or reference (INQ-000123).")]})
        return queryset.filter(inquiry_id=pk)

    def filter_open(self, queryset, name, value):
        return queryset.filter(closed_at__isnull=value == "true")
