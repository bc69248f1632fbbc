"""REST API v1 for orders and customers: parse, call the services, answer. Thin on purpose."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import json

import django_filters as filters
from django import forms as django_forms
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers as drf_serializers
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from fulfillment.api.auth import actor_for
from fulfillment.api.errors import flatten_errors
from fulfillment.api.idempotency import run_idempotent
from fulfillment.changefeed import RowsAfter, safe_horizon
from fulfillment.errors import Conflict, DomainError

from .. import selectors, services
from ..filters import OrderFilter, OrderFilterForm
from ..models import Customer, CustomerExternalRef, Order
from ..services import LineInput
from . import serializers as s
from .lean import Unsure, lean_validator

ERRORS = {
    400: OpenApiResponse(description=_("Invalid input (error shape with field errors).")),
    401: OpenApiResponse(description=_("No or unknown API key.")),
    403: OpenApiResponse(description=_("The key lacks the scope, or the role may not do this.")),
    404: OpenApiResponse(description=_("Not found.")),
    429: OpenApiResponse(description=_("Throttled; see Retry-After.")),
}
WRITE_ERRORS = {
    **ERRORS,
    409: OpenApiResponse(description=_("Transition not allowed; lists the allowed moves.")),
    412: OpenApiResponse(description=_("If-Match does not match the current version.")),
    413: OpenApiResponse(description=_("Body too large.")),
    422: OpenApiResponse(description=_("Idempotency-Key reused with a different body.")),
}
IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[!-~]([ -~]*[!-~])?$"},
    OpenApiParameter.HEADER,
    required=False,
    description=_("Retry-safe POST: the same key and body return the first response."),
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=_("The ETag you read; a stale one gets 412."),
)


def etag(row) -> str:
    return etag_for(row.pk, row.version)


def etag_for(pk: int, version: int) -> str:
    """A strong ETag naming one version of one row: "<id>-<version>"."""
    return f'"{pk}-{version}"'


def if_match_version(request, row) -> None:
    """412 unless If-Match (when sent) names the row's current version."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return
    if etag(row) not in [tag.strip().removeprefix("W/") for tag in header.split(",")]:
        raise Conflict(_("If-Match does not match the current version %(etag)s.") % {"etag": etag(row)})


def order_rows(queryset):
    """Orders as value rows for ``serializers.order_dicts`` (no model instances)."""
    return queryset.values(*s.ORDER_VALUES)


def order_payload(pk: int) -> dict:
    return s.order_dicts(list(order_rows(Order.objects.filter(pk=pk))))[0]


def _lines(data) -> list[LineInput]:
    return [
        LineInput(
            sku=line["sku"],
            description=line.get("description", ""),
            quantity=line["quantity"],
            unit_price=line["unit_price"],
        )
        for line in data
    ]


def _customer_for(actor, data, cache: dict | None = None) -> Customer:
    """The order's customer: by our id, or by the client's reference (created when new).
    ``cache``: (source, external_ref) → customer, shared across the items of one bulk request."""
    if "customer" in data:
        customer = Customer.objects.filter(pk=data["customer"]).first()
        if customer is None:
            raise ValidationError({"customer": [_("No customer with this id.")]})
        return customer
    ref = dict(data["customer_ref"])
    source, external_ref = ref.pop("source"), ref.pop("external_ref")
    if cache is not None and (source, external_ref) in cache:
        return cache[(source, external_ref)]
    existing = (
        CustomerExternalRef.objects.select_related("customer").filter(source=source, external_ref=external_ref).first()
    )
    customer = (
        existing.customer
        if existing
        else services.customer_create(actor=actor, external_refs=[(source, external_ref)], **ref)
    )
    if cache is not None:
        cache[(source, external_ref)] = customer
    return customer


DETAIL_FIELDS = set(services.ORDER_DETAIL_FIELDS)


def _create_new_customers(actor, items: list[dict], customers: dict) -> None:
    """The customers the batch names by a reference nobody has yet, created at once (into ``customers``)."""
    wanted: dict[tuple[str, str], dict] = {}
    for data in items:
        if "customer" in data or "customer_ref" not in data:
            continue
        ref = dict(data["customer_ref"])
        key = (ref.pop("source"), ref.pop("external_ref"))
        if key not in customers:
            wanted.setdefault(key, ref)
    if wanted:
        taken = CustomerExternalRef.objects.filter(external_ref__in=[ref for _s, ref in wanted]).select_related(
            "customer"
        )
        for row in taken:
            customers[(row.source, row.external_ref)] = row.customer
            wanted.pop((row.source, row.external_ref), None)
    if wanted:
        created = services.customer_create_many(actor=actor, customers=list(wanted.items()))
        customers.update(zip(wanted, created, strict=True))


def _shipping(data: dict) -> dict | None:
    """The ship_* address fields given, or None (the customer's address is used)."""
    return {k: v for k, v in data.items() if k.startswith("ship_") and k != "ship_by"} or None


def order_upsert(*, actor, data: dict, order: Order | None, customers: dict | None = None) -> tuple[Order, bool]:
    """Create (order None) or update an order from validated API data. Returns (order, created)."""
    if order is None:
        if "customer" not in data and "customer_ref" not in data:
            raise ValidationError({"customer": [_("Give customer (our id) or customer_ref (yours).")]})
        if not data.get("lines"):
            raise ValidationError({"lines": [_("An order needs at least one line.")]})
        order = services.order_create(
            actor=actor,
            customer=_customer_for(actor, data, customers),
            lines=_lines(data["lines"]),
            currency=data.get("currency"),
            source=data.get("source", ""),
            external_ref=data.get("external_ref", ""),
            ship_by=data.get("ship_by"),
            deliver_by=data.get("deliver_by"),
            placed_at=data.get("placed_at"),
            shipping=_shipping(data),
        )
        return order, True
    same_customer = True
    if "customer" in data:
        same_customer = data["customer"] == order.customer_id
    elif "customer_ref" in data:  # re-sending a full order names its customer again: fine if the same
        same_customer = CustomerExternalRef.objects.filter(
            customer_id=order.customer_id,
            source=data["customer_ref"]["source"],
            external_ref=data["customer_ref"]["external_ref"],
        ).exists()
    if not same_customer:
        raise ValidationError({"customer": [_("The customer of an order cannot change.")]})
    for name in ("source", "external_ref"):
        if name in data and data[name] != getattr(order, name):
            raise ValidationError({name: [_("The reference of an order cannot change.")]})
    if "placed_at" in data and data["placed_at"] != order.placed_at:
        raise ValidationError({"placed_at": [_("placed_at cannot change.")]})
    details = {k: v for k, v in data.items() if k in DETAIL_FIELDS}
    if details:
        order = services.order_update_details(actor=actor, order=order, **details)
    if "lines" in data:
        new = [(li.sku, li.description, li.quantity, li.unit_price) for li in _lines(data["lines"])]
        old = [(li.sku, li.description, li.quantity, li.unit_price) for li in order.lines.all()]
        if new != old:
            order = services.order_replace_lines(actor=actor, order=order, lines=_lines(data["lines"]))
    return order, False


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    """An ISO time with any offset, compared in UTC (PostgreSQL refuses offsets past ±15:59)."""

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(dt.UTC)
            except (OverflowError, ValueError):
                raise ValidationError({self.field_name: [_("This time is out of range.")]}) from None
        return super().filter(qs, value)


class StrictQueryMixin:
    """API filters: an empty value is an error, not "no filter" (the browser's forms send empties)."""

    def clean(self):
        data = super().clean()
        for name in self.fields:
            if name in self.data and self.data.get(name) == "":
                self.add_error(name, _("Give a value, or leave the parameter out."))
        return data


class StrictOrderFilterForm(StrictQueryMixin, OrderFilterForm):
    pass


class StrictFilterForm(StrictQueryMixin, django_forms.Form):
    pass


class OrderApiFilter(OrderFilter):
    number = filters.CharFilter(field_name="number", label="number")
    external_ref = filters.CharFilter(field_name="external_ref", label="external_ref")
    source = filters.CharFilter(field_name="source", label="source")
    updated_after = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gt", label="updated_after")

    class Meta(OrderFilter.Meta):
        form = StrictOrderFilterForm


class UpdatedCursorPagination(CursorPagination):
    """Stable under concurrent writes: ordered by (updated_at, id)."""

    ordering = ("updated_at", "id")
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


def _feed_cursor(seq: int, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{seq}:{pk}".encode()).decode().rstrip("=")


def _parse_feed_cursor(value: str) -> tuple[int, int]:
    try:
        seq, pk = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode().split(":")
        return int(seq), int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationError({"cursor": [_("Not a cursor this feed gave out.")]}) from None


class FeedQuery(drf_serializers.Serializer):
    cursor = drf_serializers.CharField(required=False, max_length=100)
    limit = drf_serializers.IntegerField(required=False, min_value=1, max_value=1000, default=500)
    updated_after = drf_serializers.DateTimeField(required=False)


def _respond(request, order: Order, code=status.HTTP_200_OK, location=False) -> Response:
    payload = order_payload(order.pk)
    headers = {"ETag": etag_for(payload["id"], payload["version"])}
    if location:
        headers["Location"] = f"/api/v1/orders/{order.pk}/"
    return Response(payload, status=code, headers=headers)


ACTION_SERVICES = {
    "confirm": (s.EmptyIn, lambda a, o, d: services.order_confirm(actor=a, order=o)),
    "process": (s.EmptyIn, lambda a, o, d: services.order_start_processing(actor=a, order=o)),
    "pack": (s.EmptyIn, lambda a, o, d: services.order_pack(actor=a, order=o)),
    "ship": (s.ShipIn, lambda a, o, d: services.order_ship(actor=a, order=o, **d)),
    "deliver": (s.EmptyIn, lambda a, o, d: services.order_deliver(actor=a, order=o)),
    "hold": (s.ReasonIn, lambda a, o, d: services.order_hold(actor=a, order=o, reason=d["reason"])),
    "release": (s.EmptyIn, lambda a, o, d: services.order_release(actor=a, order=o)),
    "cancel": (s.ReasonIn, lambda a, o, d: services.order_cancel(actor=a, order=o, reason=d["reason"])),
    "return": (s.ReasonIn, lambda a, o, d: services.order_mark_returned(actor=a, order=o, reason=d["reason"])),
    "expedite": (s.ExpediteIn, lambda a, o, d: services.order_request_expedite(actor=a, order=o, **d)),
}


@extend_schema_view(
    list=extend_schema(responses={200: s.OrderOut(many=True), **ERRORS}),
    retrieve=extend_schema(responses={200: s.OrderOut, **ERRORS}),
)
class OrderViewSet(viewsets.GenericViewSet):
    filterset_class = OrderApiFilter
    pagination_class = UpdatedCursorPagination
    serializer_class = s.OrderOut

    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Order.objects.none()
        selectors.order_list(actor=actor_for(self.request))  # the read permission, as in the browser
        return Order.objects.all()

    def list(self, request):
        page = self.paginate_queryset(order_rows(self.filter_queryset(self.get_queryset())))
        return self.get_paginated_response(s.order_dicts(page))

    def retrieve(self, request, pk=None):
        order = get_object_or_404(self.get_queryset().only("id"), pk=pk)
        return _respond(request, order)

    @extend_schema(request=s.OrderIn, parameters=[IDEMPOTENCY], responses={201: s.OrderOut, **WRITE_ERRORS})
    def create(self, request):
        data = self._valid(s.OrderIn, request.data)

        def handler():
            order, _created = order_upsert(actor=actor_for(request), data=data, order=None)
            return _respond(request, order, status.HTTP_201_CREATED, location=True)

        return run_idempotent(request, handler)

    @extend_schema(request=s.OrderIn, parameters=[IF_MATCH], responses={200: s.OrderOut, **WRITE_ERRORS})
    def update(self, request, pk=None):
        return self._update(request, pk, partial=False)

    @extend_schema(request=s.OrderIn, parameters=[IF_MATCH], responses={200: s.OrderOut, **WRITE_ERRORS})
    def partial_update(self, request, pk=None):
        return self._update(request, pk, partial=True)

    def _update(self, request, pk, *, partial):
        data = self._valid(s.OrderIn, request.data, partial=partial)
        actor = actor_for(request)
        with transaction.atomic():
            order = get_object_or_404(Order.objects.select_for_update(), pk=pk)
            if_match_version(request, order)
            order, _created = order_upsert(actor=actor, data=data, order=order)
        return _respond(request, order)

    @extend_schema(
        request=s.OrderIn,
        parameters=[IF_MATCH],
        responses={200: s.OrderOut, 201: s.OrderOut, **WRITE_ERRORS},
        description=_("Create or update the order with your reference: 201 when created, 200 when updated."),
    )
    @action(detail=False, methods=["put"], url_path=r"by-ref/(?P<source>[^/]{1,40})/(?P<external_ref>[^/]{1,100})")
    def by_ref(self, request, source=None, external_ref=None):
        data = self._valid(
            s.OrderIn,
            {**request.data, "source": source, "external_ref": external_ref}
            if isinstance(request.data, dict)
            else request.data,
        )
        actor = actor_for(request)
        with transaction.atomic():
            order = Order.objects.select_for_update().filter(source=source, external_ref=external_ref).first()
            if order is not None:
                if_match_version(request, order)
            order, created = order_upsert(actor=actor, data=data, order=order)
        return _respond(request, order, status.HTTP_201_CREATED if created else status.HTTP_200_OK, location=created)

    @extend_schema(
        request=s.BulkIn,
        parameters=[IDEMPOTENCY],
        responses={200: s.BulkOut, **WRITE_ERRORS},
        description=_(
            "Up to 500 orders, each created or updated by (source, external_ref). Each item "
            "succeeds or fails whole; the response says which."
        ),
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        payload = self._valid(s.BulkIn, request.data)
        actor = actor_for(request)

        def handler():
            items = payload["orders"]
            parsed = _bulk_parsed(items)
            # What the batch names, looked up once rather than per item.
            refs = {d["external_ref"] for d, _e in parsed if d and d.get("external_ref")}
            existing = set(Order.objects.filter(external_ref__in=refs).values_list("source", "external_ref"))
            customer_refs = {d["customer_ref"]["external_ref"] for d, _e in parsed if d and "customer_ref" in d}
            customers = {
                (r.source, r.external_ref): r.customer
                for r in CustomerExternalRef.objects.filter(external_ref__in=customer_refs).select_related("customer")
            }
            results, counts = [], {"created": 0, "updated": 0, "errors": 0}
            fast = self._bulk_new_orders(actor, parsed, existing, customers)
            for index, (raw, (data, errors)) in enumerate(zip(items, parsed, strict=True)):
                if index in fast:
                    order = fast[index]
                    counts["created"] += 1
                    results.append(
                        {
                            "index": index,
                            "source": order.source,
                            "external_ref": order.external_ref,
                            "result": "created",
                            "id": order.pk,
                            "number": order.number,
                            "version": 1,
                        }
                    )
                else:
                    results.append(self._bulk_item(actor, index, raw, data, errors, counts, existing, customers))
            return Response({**counts, "results": results})

        return run_idempotent(request, handler)

    @staticmethod
    def _bulk_new_orders(actor, parsed, existing, customers) -> dict[int, Order]:
        """The batch's new orders in one go (services.order_create_many), in a savepoint.

        If anything in it is refused, nothing of it is kept and every item goes the one-at-a-time
        way instead, which gives each its own result. Returns {index: created order}.
        """
        new = [
            (index, data)
            for index, (data, errors) in enumerate(parsed)
            if errors is None
            and data.get("source")
            and data.get("external_ref")
            and (data["source"], data["external_ref"]) not in existing
            and ("customer" in data or "customer_ref" in data)
            and data.get("lines")
        ]
        if len(new) < 2:
            return {}
        known = dict(customers)
        try:
            with transaction.atomic():
                _create_new_customers(actor, [data for _index, data in new], customers)
                specs = [
                    {
                        "customer": _customer_for(actor, data, customers),
                        "lines": _lines(data["lines"]),
                        "currency": data.get("currency"),
                        "source": data["source"],
                        "external_ref": data["external_ref"],
                        "ship_by": data.get("ship_by"),
                        "deliver_by": data.get("deliver_by"),
                        "placed_at": data.get("placed_at"),
                        "shipping": _shipping(data),
                    }
                    for _index, data in new
                ]
                created = services.order_create_many(actor=actor, orders=specs)
        except (ValidationError, DomainError, IntegrityError):  # IntegrityError: a reference taken meanwhile
            customers.clear()
            customers.update(known)
            return {}
        existing.update((order.source, order.external_ref) for order in created)
        return {index: order for (index, _data), order in zip(new, created, strict=True)}

    def _bulk_item(self, actor, index, raw, data, errors, counts, existing, customers) -> dict:
        item = {
            "index": index,
            "source": str(raw.get("source", ""))[:40] if isinstance(raw, dict) else "",
            "external_ref": str(raw.get("external_ref", ""))[:100] if isinstance(raw, dict) else "",
        }
        if errors is None and (not data.get("source") or not data.get("external_ref")):
            errors = {"external_ref": [_("Each bulk item needs source and external_ref.")]}
        if errors is None:
            key = (data["source"], data["external_ref"])
            known = dict(customers)  # a failed item rolls back the customers it created: forget them too
            try:
                with transaction.atomic():
                    order = None
                    if key in existing:
                        order = Order.objects.select_for_update().filter(source=key[0], external_ref=key[1]).first()
                    order, created = order_upsert(actor=actor, data=data, order=order, customers=customers)
            except (ValidationError, DomainError) as exc:
                customers.clear()
                customers.update(known)
                if isinstance(exc, ValidationError):
                    errors = _flat(exc.detail)
                else:
                    errors = exc.field_errors or {"non_field_errors": [str(exc.message)]}
            else:
                existing.add(key)
                counts["created" if created else "updated"] += 1
                return {
                    **item,
                    "result": "created" if created else "updated",
                    "id": order.pk,
                    "number": order.number,
                    "version": order.version,
                }
        counts["errors"] += 1
        return {**item, "result": "error", "errors": errors}

    @extend_schema(
        parameters=[FeedQuery],
        responses={200: s.OrderFeedOut, **ERRORS},
        description=_(
            "The change feed: every order created or changed since your cursor, oldest change first. "
            "Never skips an order, including ones whose transaction committed late."
        ),
    )
    @action(detail=False, methods=["get"])
    def feed(self, request):
        query = self._valid(FeedQuery, request.query_params)
        selectors.order_list(actor=actor_for(request))
        queryset = Order.objects.order_by("change_seq", "id")
        horizon = safe_horizon()
        if horizon is not None:
            queryset = queryset.filter(change_seq__lt=horizon)
        if "cursor" in query:
            seq, pk = _parse_feed_cursor(query["cursor"])
            queryset = queryset.filter(RowsAfter(F("change_seq"), F("id"), after=(seq, pk)))
        elif "updated_after" in query:
            queryset = queryset.filter(updated_at__gt=query["updated_after"])
        page = queryset[: query["limit"] + 1]
        if connection.vendor == "postgresql":  # the page's JSON built by the database, in one query
            rows = s.order_json_rows(page)
            keys = [(seq, pk) for seq, pk, _json in rows]
        else:
            rows = list(order_rows(page))
            keys = [(row["change_seq"], row["id"]) for row in rows]
        has_more = len(rows) > query["limit"]
        rows = rows[: query["limit"]]
        if rows:
            next_cursor = _feed_cursor(*keys[len(rows) - 1])
        elif "cursor" in query:
            next_cursor = query["cursor"]
        else:  # nothing (new) yet: start the client at the current end, not at the beginning
            end = Order.objects.order_by("-change_seq", "-id")
            if horizon is not None:
                end = end.filter(change_seq__lt=horizon)
            last = end.values_list("change_seq", "id").first() if "updated_after" in query else None
            next_cursor = _feed_cursor(*last) if last else _feed_cursor(0, 0)
        if connection.vendor == "postgresql":
            tail = json.dumps({"next_cursor": next_cursor, "has_more": has_more}, separators=(",", ":"))
            body = '{"results":[' + ",".join(text for _seq, _pk, text in rows) + "]," + tail[1:]
            return HttpResponse(body, content_type="application/json")
        return Response({"results": s.order_dicts(rows), "next_cursor": next_cursor, "has_more": has_more})

    def _action(self, request, pk, name):
        serializer_class, call = ACTION_SERVICES[name]
        data = self._valid(serializer_class, request.data)
        actor = actor_for(request)

        def handler():
            order = get_object_or_404(Order.objects.select_for_update(), pk=pk)
            if_match_version(request, order)
            call(actor, order, data)
            return _respond(request, order)

        return run_idempotent(request, handler)

    @staticmethod
    def _valid(serializer_class, data, partial=False):
        serializer = serializer_class(data=data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


def _flat(detail) -> dict:
    return flatten_errors(detail)


@functools.cache
def _lean_order_in():
    return lean_validator(s.OrderIn)


def _bulk_parsed(items: list) -> list[tuple[dict | None, dict | None]]:
    """(validated data, None) or (None, field errors) per bulk item. The lean validator takes the
    plain items; any item it is unsure of goes through OrderIn, which gives the same data or the
    errors (orders/api/lean.py)."""
    lean = _lean_order_in()
    validator = None
    parsed = []
    for raw in items:
        try:
            parsed.append((lean(raw), None))
            continue
        except Unsure:
            pass
        validator = validator or s.OrderIn()  # one instance for every item: building its fields is not free
        try:
            parsed.append((validator.run_validation(raw), None))
        except ValidationError as exc:
            parsed.append((None, _flat(exc.detail)))
    return parsed


def _make_action(name: str, serializer_class):
    def view(self, request, pk=None):
        return self._action(request, pk, name)

    view.__name__ = f"action_{name}"  # before @action: the router maps POST to this name
    view = action(detail=True, methods=["post"], url_path=name, url_name=name)(view)
    return extend_schema(
        request=serializer_class,
        parameters=[IDEMPOTENCY, IF_MATCH],
        responses={200: s.OrderOut, **WRITE_ERRORS},
        operation_id=f"orders_{name}",
    )(view)


for _name, (_serializer, _call) in ACTION_SERVICES.items():
    setattr(OrderViewSet, f"action_{_name}", _make_action(_name, _serializer))


def customers_loaded():
    return Customer.objects.prefetch_related(
        Prefetch("external_refs", queryset=CustomerExternalRef.objects.order_by("source", "external_ref"))
    )


class CustomerApiFilter(filters.FilterSet):
    q = filters.CharFilter(method="filter_q", label="q", max_length=200)
    email = filters.CharFilter(field_name="email", lookup_expr="iexact", label="email")
    source = filters.CharFilter(method="filter_ref", label="source", max_length=40)
    external_ref = filters.CharFilter(method="filter_ref", label="external_ref", max_length=100)
    updated_after = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gt", label="updated_after")

    class Meta:
        model = Customer
        fields: list[str] = []
        form = StrictFilterForm

    def filter_q(self, queryset, name, value):
        return queryset.filter(selectors.customer_matches(value)) if value.strip() else queryset

    def filter_ref(self, queryset, name, value):
        """source and external_ref together name ONE reference (not two different ones)."""
        refs = CustomerExternalRef.objects.all()
        for field in ("source", "external_ref"):
            if self.form.cleaned_data.get(field):
                refs = refs.filter(**{field: self.form.cleaned_data[field]})
        return queryset.filter(id__in=refs.values("customer_id"))


@extend_schema_view(
    list=extend_schema(responses={200: s.CustomerOut(many=True), **ERRORS}),
    retrieve=extend_schema(responses={200: s.CustomerOut, **ERRORS}),
)
class CustomerViewSet(viewsets.GenericViewSet):
    filterset_class = CustomerApiFilter
    pagination_class = UpdatedCursorPagination
    serializer_class = s.CustomerOut

    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Customer.objects.none()
        selectors.customer_list(actor=actor_for(self.request))
        return customers_loaded()

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()).distinct())
        return self.get_paginated_response([s.customer_dict(c) for c in page])

    def retrieve(self, request, pk=None):
        customer = get_object_or_404(self.get_queryset(), pk=pk)
        return Response(s.customer_dict(customer), headers={"ETag": etag(customer)})

    @extend_schema(request=s.CustomerCreateIn, parameters=[IDEMPOTENCY], responses={201: s.CustomerOut, **WRITE_ERRORS})
    def create(self, request):
        data = dict(OrderViewSet._valid(s.CustomerCreateIn, request.data))
        refs = [(r["source"], r["external_ref"]) for r in data.pop("external_refs", [])]

        def handler():
            customer = services.customer_create(actor=actor_for(request), external_refs=refs, **data)
            customer = customers_loaded().get(pk=customer.pk)
            return Response(
                s.customer_dict(customer),
                status=201,
                headers={"ETag": etag(customer), "Location": f"/api/v1/customers/{customer.pk}/"},
            )

        return run_idempotent(request, handler)

    @extend_schema(request=s.CustomerIn, parameters=[IF_MATCH], responses={200: s.CustomerOut, **WRITE_ERRORS})
    def update(self, request, pk=None):
        return self._update(request, pk, partial=False)

    @extend_schema(request=s.CustomerIn, parameters=[IF_MATCH], responses={200: s.CustomerOut, **WRITE_ERRORS})
    def partial_update(self, request, pk=None):
        return self._update(request, pk, partial=True)

    def _update(self, request, pk, *, partial):
        data = OrderViewSet._valid(s.CustomerIn, request.data, partial=partial)
        with transaction.atomic():
            customer = get_object_or_404(Customer.objects.select_for_update(), pk=pk)
            if_match_version(request, customer)
            services.customer_update(actor=actor_for(request), customer=customer, **data)
        customer = customers_loaded().get(pk=pk)
        return Response(s.customer_dict(customer), headers={"ETag": etag(customer)})
