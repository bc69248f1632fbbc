"""REST API v1: an API client's own webhook subscriptions and their delivery log, read-only.

Staff set subscriptions up in the admin (docs/webhooks.md); a client reads here what it is
subscribed to and what became of each delivery (pending, delivered, failed), to find a gap
after an outage and ask for a redelivery. The signing secret is never shown here. Only API
clients (``read`` scope) see these: a staff session gets 403 and uses the admin instead.
"""

from __future__ import annotations

import django_filters as filters
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from .. import webhooks
from ..models import ApiClient, DeliveryState, WebhookEventType
from .auth import HasScope

ERRORS = {
    400: OpenApiResponse(description=_("Invalid input (error shape with field errors).")),
    401: OpenApiResponse(description=_("No or unknown API key.")),
    403: OpenApiResponse(description=_("The key lacks the read scope, or this is not an API key.")),
    404: OpenApiResponse(description=_("Not found (not yours), or a cursor this list did not give out.")),
    429: OpenApiResponse(description=_("Throttled; see Retry-After.")),
}
ID = OpenApiParameter(
    "id",
    {"type": "integer", "minimum": 0, "maximum": 10**18 - 1},
    OpenApiParameter.PATH,
    description=_("The subscription's id."),
)


class ClientsOnly(permissions.BasePermission):
    message = _("Webhooks are listed for API clients; staff see them in the admin.")

    def has_permission(self, request, view):
        return isinstance(request.auth, ApiClient)


class NewestFirst(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


class SubscriptionOut(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEventType.choices),
        help_text=_("The event types sent; empty: all of them."),
    )
    active = serializers.BooleanField()
    description = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class DeliveryOut(serializers.Serializer):
    id = serializers.IntegerField(help_text=_("As in the X-FD-Delivery header."))
    event_id = serializers.UUIDField(source="event.event_id", help_text=_("As the payload's id."))
    type = serializers.ChoiceField(source="event.type", choices=WebhookEventType.choices)
    about = serializers.CharField(source="event.ref", help_text=_("order:<id> or inquiry:<id>."))
    state = serializers.ChoiceField(choices=DeliveryState.choices)
    attempts = serializers.IntegerField(help_text=_("Tries so far, in every round."))
    round = serializers.IntegerField(help_text=_("1, and one more for each redelivery."))
    last_status = serializers.IntegerField(allow_null=True, help_text=_("Your endpoint's last HTTP status."))
    last_error = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)


class DeliveryFilter(filters.FilterSet):
    state = filters.ChoiceFilter(field_name="state", lookup_expr="exact", choices=DeliveryState.choices)
    type = filters.ChoiceFilter(field_name="event__type", lookup_expr="exact", choices=WebhookEventType.choices)


class WebhookViewSet(viewsets.GenericViewSet):
    permission_classes = [HasScope, ClientsOnly]
    pagination_class = NewestFirst
    serializer_class = SubscriptionOut
    lookup_value_regex = r"[0-9]{1,18}"
    filterset_class = None  # the delivery log's: DeliveryFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return webhooks.subscriptions_of(client_id=0)
        return webhooks.subscriptions_of(client_id=self.request.auth.pk)

    @extend_schema(
        responses={200: SubscriptionOut(many=True), **ERRORS},
        description=_("Your webhook subscriptions, newest first."),
    )
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SubscriptionOut(page, many=True).data)

    @extend_schema(parameters=[ID], responses={200: SubscriptionOut, **ERRORS})
    def retrieve(self, request, pk=None):
        return Response(SubscriptionOut(get_object_or_404(self.get_queryset(), pk=pk)).data)

    @extend_schema(
        parameters=[ID],
        filters=True,
        responses={200: DeliveryOut(many=True), **ERRORS},
        description=_("The delivery log of one of your subscriptions, newest first; filter by state or type."),
    )
    @action(detail=True, methods=["get"], filterset_class=DeliveryFilter, serializer_class=DeliveryOut)
    def deliveries(self, request, pk=None):
        subscription = get_object_or_404(self.get_queryset(), pk=pk)
        rows = self.filter_queryset(webhooks.deliveries_of(subscription=subscription))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(DeliveryOut(page, many=True).data)


router = SimpleRouter()
router.register("webhooks", WebhookViewSet, basename="api-webhooks")
urlpatterns = router.urls
