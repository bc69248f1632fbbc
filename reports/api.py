"""/api/v1/metrics/ (the keys and titles) and /api/v1/metrics/<key>/ (one metric's table for the
filters ``start``, ``end``, ``tier``, ``category``, ``channel``, ``team``) for BI tools, and
/api/v1/teams/ (the teams a ``team`` filter names).

The API's usual keys and scopes (``read``) and error shape. Staff sessions follow the browser's
rule: supervisors every tier, senior reps and specialists their own tier, reps 403.
"""

from __future__ import annotations

from django.db.models import Count
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment.api.auth import actor_for
from fulfillment.models import Team
from orders.api.views import ERRORS

from .forms import FilterForm
from .metrics import METRICS
from .permissions import locked_tier


class MetricOut(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField()


TableOut = inline_serializer(
    "MetricTableOut",
    {
        "key": serializers.CharField(),
        "title": serializers.CharField(),
        "columns": serializers.ListField(child=serializers.CharField()),
        "rows": serializers.ListField(child=serializers.ListField(child=serializers.JSONField())),
        "filters": inline_serializer(
            "MetricFiltersOut",
            {
                "start": serializers.DateField(),
                "end": serializers.DateField(),
                "tier": serializers.IntegerField(allow_null=True),
                "category": serializers.CharField(),
                "channel": serializers.CharField(),
                "team": serializers.IntegerField(allow_null=True),
            },
        ),
    },
)
FILTERS = [
    OpenApiParameter("start", {"type": "string", "format": "date"}, description=_("First day (default: 6 days ago).")),
    OpenApiParameter(
        "end", {"type": "string", "format": "date"}, description=_("Last day, included (default: today).")
    ),
    OpenApiParameter("tier", {"type": "integer", "enum": [1, 2, 3, 4]}, description=_("Only this tier.")),
    OpenApiParameter("category", str, description=_("Only this category.")),
    OpenApiParameter("channel", str, description=_("Only this channel.")),
    OpenApiParameter(
        "team", int, description=_("Only inquiries assigned to a member of this team (its id, from /api/v1/teams/).")
    ),
]
KEY = OpenApiParameter(
    "key", {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"}, OpenApiParameter.PATH, description=_("The metric's key.")
)


def _tier(request) -> int | None:
    return locked_tier(actor_for(request))  # PermissionDenied → 403 in the one error shape


class MetricListView(APIView):
    @extend_schema(
        responses={200: MetricOut(many=True), **ERRORS},
        description=_("Every metric of the dashboard, in its order."),
    )
    def get(self, request):
        _tier(request)
        return Response(
            [
                {"key": metric.key, "title": str(metric.title), "url": request.build_absolute_uri(f"{metric.key}/")}
                for metric in METRICS.values()
            ]
        )


class MetricDetailView(APIView):
    @extend_schema(
        parameters=[KEY, *FILTERS],
        responses={200: TableOut, **ERRORS},
        description=_("One metric's table (its columns and rows, as on the dashboard and in its CSV)."),
    )
    def get(self, request, key: str):
        tier = _tier(request)
        metric = METRICS.get(key)
        if metric is None:
            raise Http404
        data = request.query_params
        if "start" not in data and "end" not in data:
            data = {**data.dict(), "preset": "last7"}
        form = FilterForm(data, locked_tier=tier)
        if not form.is_valid():
            errors = form.errors.get_json_data()
            raise exceptions.ValidationError({name: [e["message"] for e in found] for name, found in errors.items()})
        filters = form.filters()
        table = metric.compute(filters)
        return Response(
            {
                "key": table.key,
                "title": str(table.title),
                "columns": [str(column) for column in table.columns],
                "rows": [list(row) for row in table.rows],
                "filters": {
                    "start": filters.start.isoformat(),
                    "end": filters.end.isoformat(),
                    "tier": filters.tier,
                    "category": filters.category,
                    "channel": filters.channel,
                    "team": filters.team,
                },
            }
        )


class TeamOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    lead = serializers.CharField(allow_null=True, help_text=_("The lead's username."))
    members = serializers.IntegerField(help_text=_("How many staff belong to it."))


class TeamListView(APIView):
    @extend_schema(
        responses={200: TeamOut(many=True), **ERRORS},
        description=_("The teams, by name: the values of the metrics' ``team`` filter."),
    )
    def get(self, request):
        _tier(request)
        teams = Team.objects.annotate(member_count=Count("members")).select_related("lead").order_by("name")
        return Response(
            [
                {
                    "id": team.pk,
                    "name": team.name,
                    "lead": team.lead.username if team.lead else None,
                    "members": team.member_count,
                }
                for team in teams
            ]
        )
