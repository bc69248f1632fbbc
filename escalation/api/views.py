"""REST API v1 for escalations: the ladder's history, read-only (list and one). The moves
themselves are made on the desk; API clients are nobody on the ladder.

The conventions are the order API's: keys and scopes (``read``), the one error shape, the
cursor ordered by (updated_at, id) so sync clients can follow changes with ``updated_after``.
"""

from __future__ import annotations

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.response import Response

from fulfillment.api.auth import actor_for
from orders.api.views import ERRORS, UpdatedCursorPagination

from .. import selectors
from ..models import Escalation
from . import serializers as s
from .filters import EscalationApiFilter

ID = OpenApiParameter(
    "id",
    {"type": "integer", "minimum": 0, "maximum": 10**18 - 1},
    OpenApiParameter.PATH,
    description=_("The escalation's id."),
)


def _loaded(queryset: QuerySet[Escalation]) -> QuerySet[Escalation]:
    """What ``serializers.escalation_dict`` reads: one query for any page size. Whether there was
    a coaching note is decided in SQL; its words are never read."""
    return queryset.only(*s.COLUMNS).annotate(
        coached=ExpressionWrapper(~Q(coaching_note=""), output_field=BooleanField())
    )


@extend_schema_view(
    list=extend_schema(
        responses={200: s.EscalationOut(many=True), **ERRORS},
        description=_("Every escalation (one move up the ladder, and what became of it), ordered by (updated_at, id)."),
    ),
    retrieve=extend_schema(parameters=[ID], responses={200: s.EscalationOut, **ERRORS}),
)
class EscalationViewSet(viewsets.GenericViewSet):
    filterset_class = EscalationApiFilter
    pagination_class = UpdatedCursorPagination
    serializer_class = s.EscalationOut
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Escalation.objects.none()
        return _loaded(selectors.escalations_list(actor=actor_for(self.request)))

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response([s.escalation_dict(escalation) for escalation in page])

    def retrieve(self, request, pk=None):
        return Response(s.escalation_dict(get_object_or_404(self.get_queryset(), pk=pk)))
