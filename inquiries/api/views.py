"""REST API v1 for inquiries: parse, call the services, answer. Thin on purpose.

The conventions (keys and scopes, the one error shape, Idempotency-Key, ETag / If-Match, the
cursor ordered by (updated_at, id)) are the order API's, reused from ``orders.api.views``.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from fulfillment import clock
from fulfillment.api.auth import actor_for
from fulfillment.api.errors import CONTENT_TYPE, problem
from fulfillment.api.idempotency import run_idempotent
from orders import services as order_services
from orders.api.views import (
    ERRORS,
    IDEMPOTENCY,
    IF_MATCH,
    WRITE_ERRORS,
    OrderViewSet,
    UpdatedCursorPagination,
    etag,
    if_match_version,
)
from orders.models import Customer, Order

from .. import selectors, services
from ..enums import MessageKind
from ..models import Inquiry, InquiryOrder, Message, parse_reference
from ..selectors import Queue
from ..services.compose import template_for
from . import serializers as s
from .filters import InquiryApiFilter

REF_PATTERN = r"[Ii][Nn][Qq]-?[0-9]{1,12}|[0-9]{1,12}"  # no group: DRF wraps it in (?P<ref>…)
REF = OpenApiParameter(
    "ref",
    {"type": "string", "pattern": r"^([Ii][Nn][Qq]-?)?[0-9]{1,12}$"},
    OpenApiParameter.PATH,
    description=_("The inquiry's reference (INQ-000123) or its id (123)."),
)
STALE_REPLY = OpenApiResponse(
    s.StaleReplyOut,
    description=_(
        "Held back: messages arrived after seen_message_id (new_message_ids lists them). Read them, then send again."
    ),
)
_valid = OrderViewSet._valid


def _pk(ref: str) -> int:
    return int(ref) if ref.isdigit() else parse_reference(ref)


def _loaded(queryset: QuerySet[Inquiry]) -> QuerySet[Inquiry]:
    """What ``serializers.inquiry_dict`` reads, in a fixed number of queries for any page size."""
    return queryset.select_related("customer", "assignee", "policy").prefetch_related(
        "tags",
        Prefetch(
            "order_links",
            queryset=InquiryOrder.objects.select_related("order").only("inquiry_id", "order__id", "order__number"),
        ),
    )


def _respond(pk: int, code=status.HTTP_200_OK, *, location=False) -> Response:
    inquiry = _loaded(Inquiry.objects.all()).get(pk=pk)
    headers = {"ETag": etag(inquiry)}
    if location:
        headers["Location"] = reverse("api-inquiries-detail", kwargs={"ref": inquiry.pk})
    return Response(s.inquiry_dict(inquiry), status=code, headers=headers)


def _message_created(message: Message) -> Response:
    return Response(s.message_dict(message), status=status.HTTP_201_CREATED)


def _customer_for(actor, data: dict) -> Customer:
    """By our id; or by email: the one customer with it, or a new one (orders' customer_create)."""
    if "customer" in data:
        customer = Customer.objects.filter(pk=data["customer"]).first()
        if customer is None:
            raise ValidationError({"customer": [_("No customer with this id.")]})
        return customer
    given = dict(data["customer_by_email"])
    matches = list(Customer.objects.filter(email__iexact=given["email"]).order_by("id")[:2])
    if len(matches) > 1:
        raise ValidationError(
            {"customer_by_email": {"email": [_("Several customers have this email: give the customer id.")]}}
        )
    if matches:
        return matches[0]
    if not given.get("name"):
        raise ValidationError({"customer_by_email": {"name": [_("No customer has this email: give a name.")]}})
    return order_services.customer_create(actor=actor, **given)


def _orders_by_number(numbers: list[str], field: str = "orders") -> list[Order]:
    found = {order.number: order for order in Order.objects.filter(number__in=numbers)}
    unknown = [number for number in numbers if number not in found]
    if unknown:
        raise ValidationError({field: [_("No order with the number %(number)s.") % {"number": unknown[0]}]})
    return [found[number] for number in dict.fromkeys(numbers)]


class MessageCursorPagination(CursorPagination):
    """Oldest first by id. Stable under concurrent writes: the services add an inquiry's
    messages while holding its row lock, so ids there grow in commit order."""

    ordering = ("id",)
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


@extend_schema_view(
    list=extend_schema(responses={200: s.InquiryOut(many=True), **ERRORS}),
    retrieve=extend_schema(parameters=[REF], responses={200: s.InquiryOut, **ERRORS}),
)
class InquiryViewSet(viewsets.GenericViewSet):
    filterset_class = InquiryApiFilter
    pagination_class = UpdatedCursorPagination
    serializer_class = s.InquiryOut

    lookup_url_kwarg = "ref"
    lookup_value_regex = REF_PATTERN

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Inquiry.objects.none()
        return _loaded(selectors.inquiry_queue(actor=actor_for(self.request), queue=Queue.ALL))

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        now = clock.now()
        return self.get_paginated_response([s.inquiry_dict(inquiry, now=now) for inquiry in page])

    def retrieve(self, request, ref=None):
        inquiry = get_object_or_404(self.get_queryset(), pk=_pk(ref))
        return Response(s.inquiry_dict(inquiry), headers={"ETag": etag(inquiry)})

    @extend_schema(
        request=s.InquiryCreateIn,
        parameters=[IDEMPOTENCY],
        responses={201: s.InquiryOut, **WRITE_ERRORS},
        description=_(
            "A new inquiry for a customer (by id, or by email: matched, or created when new), with the "
            "customer's first message and the orders it is about."
        ),
    )
    def create(self, request):
        data = _valid(s.InquiryCreateIn, request.data)

        def handler():
            actor = actor_for(request)
            inquiry = services.inquiry_create(
                actor=actor,
                customer=_customer_for(actor, data),
                orders=_orders_by_number(data.get("orders", [])),
                subject=data["subject"],
                channel=data["channel"],
                category=data["category"],
                priority=data["priority"],
                specialty_needed=data.get("specialty_needed", ""),
                body=data.get("body", ""),
                tags=data.get("tags", ()),
            )
            return _respond(inquiry.pk, status.HTTP_201_CREATED, location=True)

        return run_idempotent(request, handler)

    @extend_schema(
        request=s.InquiryUpdateIn,
        parameters=[REF, IF_MATCH],
        responses={200: s.InquiryOut, **WRITE_ERRORS},
        description=_("Change details. The status is never changed here: POST status/."),
    )
    def partial_update(self, request, ref=None):
        data = _valid(s.InquiryUpdateIn, request.data, partial=True)
        with transaction.atomic():
            inquiry = get_object_or_404(Inquiry.objects.select_for_update(), pk=_pk(ref))
            if_match_version(request, inquiry)
            services.inquiry_update(actor=actor_for(request), inquiry=inquiry, **data)
        return _respond(inquiry.pk)

    def _act(self, request, ref, serializer_class, call) -> Response:
        """A POST action: validate, then lock the inquiry, check If-Match and call ``call``
        (actor, inquiry, data) → Response, all at most once per Idempotency-Key."""
        data = _valid(serializer_class, request.data)
        actor = actor_for(request)

        def handler():
            inquiry = get_object_or_404(Inquiry.objects.select_for_update(), pk=_pk(ref))
            if_match_version(request, inquiry)
            return call(actor, inquiry, data)

        return run_idempotent(request, handler)

    @extend_schema(
        request=s.ReplyIn,
        parameters=[REF, IDEMPOTENCY, IF_MATCH],
        responses={201: s.MessageOut, **WRITE_ERRORS, 409: STALE_REPLY},
        description=_("A reply to the customer (by email when the inquiry came by email or web and we have one)."),
    )
    @action(detail=True, methods=["post"])
    def reply(self, request, ref=None):
        def call(actor, inquiry, data):
            template = None
            if data.get("template"):
                template = template_for(data["template"], inquiry.customer.preferred_language)
                if template is None:
                    raise ValidationError({"template": [_("No active response template with this name or id.")]})
            message = services.reply_send(
                actor=actor,
                inquiry=inquiry,
                body=data.get("body", ""),
                template=template,
                seen_message_id=data.get("seen_message_id"),
                then_status=data.get("then_status"),
                frame=data["frame"],
            )
            return _message_created(message)

        try:
            return self._act(request, ref, s.ReplyIn, call)
        except services.StaleReply as exc:  # rolled back, and not kept for the Idempotency-Key
            body = problem(409, exc.code, exc.message, new_message_ids=exc.new_message_ids)
            return Response(body, status=status.HTTP_409_CONFLICT, content_type=CONTENT_TYPE)

    @extend_schema(
        methods=["GET"],
        parameters=[REF],
        responses={200: s.MessageOut(many=True), **ERRORS},
        description=_(
            "The inquiry's messages, oldest first. Internal notes are shown to staff sessions only, never to API keys."
        ),
    )
    @extend_schema(
        methods=["POST"],
        request=s.CustomerMessageIn,
        parameters=[REF, IDEMPOTENCY, IF_MATCH],
        responses={201: s.MessageOut, **WRITE_ERRORS},
        description=_(
            "A message from the customer (e.g. from a web chat). A resolved or closed inquiry reopens; "
            "one waiting on the customer is open again."
        ),
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=MessageCursorPagination)
    def messages(self, request, ref=None):
        if request.method == "POST":
            return self._act(request, ref, s.CustomerMessageIn, _receive)
        actor = actor_for(request)
        inquiry = get_object_or_404(
            selectors.inquiry_queue(actor=actor, queue=Queue.ALL).select_related(None).only("id"), pk=_pk(ref)
        )
        messages = Message.objects.filter(inquiry=inquiry).prefetch_related("attachments")
        if actor.user is None:  # API clients are systems: internal notes stay inside the desk
            messages = messages.exclude(kind=MessageKind.NOTE)
        page = self.paginate_queryset(messages)
        return self.get_paginated_response([s.message_dict(message) for message in page])

    @extend_schema(
        request=s.NoteIn,
        parameters=[REF, IDEMPOTENCY, IF_MATCH],
        responses={201: s.MessageOut, **WRITE_ERRORS},
        description=_("An internal note: never sent to the customer, never shown to API keys."),
    )
    @action(detail=True, methods=["post"])
    def notes(self, request, ref=None):
        return self._act(
            request,
            ref,
            s.NoteIn,
            lambda actor, inquiry, data: _message_created(
                services.note_add(actor=actor, inquiry=inquiry, body=data["body"])
            ),
        )

    @extend_schema(
        request=s.StatusIn,
        parameters=[REF, IDEMPOTENCY, IF_MATCH],
        responses={200: s.InquiryOut, **WRITE_ERRORS},
        description=_(
            "Move the inquiry along its transition table; a move it does not allow gets 409 with the allowed ones."
        ),
    )
    @action(detail=True, methods=["post"], url_path="status", url_name="status")
    def set_status(self, request, ref=None):
        def call(actor, inquiry, data):
            services.inquiry_set_status(actor=actor, inquiry=inquiry, **data)
            return _respond(inquiry.pk)

        return self._act(request, ref, s.StatusIn, call)

    @extend_schema(
        request=s.LinkOrderIn,
        parameters=[REF, IDEMPOTENCY, IF_MATCH],
        responses={200: s.InquiryOut, **WRITE_ERRORS},
        description=_("Link one of the customer's orders, by its number."),
    )
    @action(detail=True, methods=["post"], url_path="link-order", url_name="link-order")
    def link_order(self, request, ref=None):
        def call(actor, inquiry, data):
            services.link_order(actor=actor, inquiry=inquiry, order=_orders_by_number([data["order"]], "order")[0])
            return _respond(inquiry.pk)

        return self._act(request, ref, s.LinkOrderIn, call)


def _receive(actor, inquiry: Inquiry, data: dict) -> Response:
    message = services.message_receive(
        actor=actor,
        inquiry=inquiry,
        body=data["body"],
        channel=data.get("channel") or inquiry.channel,
        subject=data.get("subject", ""),
        sender_email=data.get("sender_email", ""),
    )
    return _message_created(message)
