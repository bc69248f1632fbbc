"""The API's inquiry FilterSet: explicit field names and lookups; an empty value is an error."""

from __future__ import annotations

import django_filters as filters
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

from fulfillment import clock
from fulfillment.api.auth import actor_for
from fulfillment.tiers import Tier
from orders.api.views import StrictFilterForm, UtcDateTimeFilter
from orders.filters import MAX_ID, IdFilter

from .. import selectors
from ..enums import Category, Channel, InquiryStatus, Priority, SlaFilter
from ..models import Inquiry, parse_reference

BOOLEAN = [("true", "true"), ("false", "false")]


class InquiryApiFilter(filters.FilterSet):
    # distinct=False: each filter joins at most one row per inquiry (tag and order numbers are unique).
    status = filters.MultipleChoiceFilter(
        field_name="status", choices=InquiryStatus.choices, distinct=False, label="status"
    )
    channel = filters.ChoiceFilter(field_name="channel", lookup_expr="exact", choices=Channel.choices, label="channel")
    category = filters.ChoiceFilter(
        field_name="category", lookup_expr="exact", choices=Category.choices, label="category"
    )
    priority = filters.TypedChoiceFilter(
        field_name="priority", lookup_expr="exact", choices=Priority.choices, coerce=int, label="priority"
    )
    tier = filters.TypedChoiceFilter(field_name="tier", lookup_expr="exact", choices=Tier.choices, coerce=int)
    customer = IdFilter(field_name="customer_id", lookup_expr="exact", label="customer")
    assignee = IdFilter(field_name="assignee_id", lookup_expr="exact", label="assignee")
    unassigned = filters.ChoiceFilter(choices=BOOLEAN, method="filter_unassigned", label="unassigned")
    order = filters.CharFilter(field_name="orders__number", lookup_expr="exact", max_length=30, label="order")
    tag = filters.CharFilter(field_name="tags__name", lookup_expr="iexact", max_length=40, label="tag")
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte", label="created_after")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt", label="created_before")
    updated_after = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gt", label="updated_after")
    reference = filters.CharFilter(method="filter_reference", max_length=20, label="reference")
    q = filters.CharFilter(method="filter_q", max_length=200, label="q")
    sla = filters.ChoiceFilter(
        choices=SlaFilter.choices,
        method="filter_sla",
        label="sla",
        help_text=_("at_risk (at risk, not yet breached), breached, or attention (either)."),
    )

    class Meta:
        model = Inquiry
        fields: list[str] = []
        form = StrictFilterForm

    def filter_unassigned(self, queryset, name, value):
        return queryset.filter(assignee__isnull=value == "true")

    def filter_reference(self, queryset, name, value):
        pk = int(value) if value.isascii() and value.isdigit() else parse_reference(value)
        if pk is None or not 1 <= pk <= MAX_ID:
            raise ValidationError({"reference": [_("Give a reference like INQ-000123, or an id.")]})
        return queryset.filter(pk=pk)

    def filter_q(self, queryset, name, value):
        """Subject, message text (internal notes only for staff sessions) and the customer; the 50
        newest matches at most."""
        actor = actor_for(self.request)
        found = selectors.search_inquiries(actor=actor, q=value, include_notes=actor.user is not None)
        return queryset.filter(pk__in=[inquiry.pk for inquiry in found])

    def filter_sla(self, queryset, name, value):
        return selectors.sla_filter(queryset, value, now=clock.now())
