"""API shapes. Input serializers validate shape only (the rules live in services); output is
built by plain functions from rows already loaded (no queries), with serializer classes that
describe the same shape for the OpenAPI schema."""

from __future__ import annotations

import functools
import json
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from fulfillment.tiers import ContactChannel

from ..enums import CustomerTier, OrderStatus, PaymentStatus, ServiceLevel, ShipmentStatus, allowed_actions
from ..models import Customer, OrderLine, Shipment
from ..services import CUSTOMER_FIELDS, MAX_MONEY, MAX_QUANTITY
from ..services._common import SHIPPING_FIELDS


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, instead of silently dropping them."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        return super().to_internal_value(data)


# --- input ----------------------------------------------------------------------------


class LineIn(StrictSerializer):
    sku = serializers.CharField(max_length=64)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"), max_value=MAX_MONEY)


class CustomerIn(StrictSerializer):
    name = serializers.CharField(max_length=200)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    preferred_language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)
    preferred_channel = serializers.ChoiceField(choices=ContactChannel.choices, required=False)
    tier = serializers.ChoiceField(choices=CustomerTier.choices, required=False)
    address_line1 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    address_line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    no_follow_up_calls = serializers.BooleanField(
        required=False, help_text=_("The customer asked not to get follow-up calls after resolution.")
    )


class ExternalRefIn(StrictSerializer):
    source = serializers.CharField(max_length=40)
    external_ref = serializers.CharField(max_length=100)


class CustomerCreateIn(CustomerIn):
    external_refs = ExternalRefIn(many=True, required=False)


class CustomerByRefIn(CustomerIn):
    """An order's customer named by the client's own reference; created when new."""

    source = serializers.CharField(max_length=40)
    external_ref = serializers.CharField(max_length=100)


class OrderIn(StrictSerializer):
    customer = serializers.IntegerField(required=False, min_value=1, help_text=_("Our customer id."))
    customer_ref = CustomerByRefIn(required=False, help_text=_("Or: the customer by your reference."))
    source = serializers.CharField(max_length=40, required=False, allow_blank=True)
    external_ref = serializers.CharField(max_length=100, required=False, allow_blank=True)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", required=False)
    placed_at = serializers.DateTimeField(required=False)
    ship_by = serializers.DateField(required=False, allow_null=True)
    deliver_by = serializers.DateField(required=False, allow_null=True)
    ship_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    ship_line1 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    ship_line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    ship_city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    ship_region = serializers.CharField(max_length=100, required=False, allow_blank=True)
    ship_postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    ship_country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    lines = LineIn(many=True, required=False, max_length=500)

    def validate(self, attrs):
        if attrs.get("ship_by") and attrs.get("deliver_by") and attrs["ship_by"] > attrs["deliver_by"]:
            raise serializers.ValidationError({"deliver_by": [_("Must be on or after ship_by.")]})
        return attrs


class BulkIn(StrictSerializer):
    orders = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=500)


class ShipIn(StrictSerializer):
    carrier = serializers.CharField(max_length=60)
    tracking_number = serializers.CharField(max_length=80)
    service_level = serializers.ChoiceField(choices=ServiceLevel.choices, default=ServiceLevel.STANDARD)


class ReasonIn(StrictSerializer):
    reason = serializers.CharField(max_length=500)


class ExpediteIn(StrictSerializer):
    reason = serializers.CharField(max_length=500)
    requested_by = serializers.CharField(max_length=150)


class EmptyIn(StrictSerializer):
    pass


# --- output (documentation of the dicts built below) ---------------------------------------


class LineOut(serializers.Serializer):
    sku = serializers.CharField()
    description = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    line_total = serializers.DecimalField(max_digits=14, decimal_places=2)


class ShipmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    carrier = serializers.CharField()
    service_level = serializers.ChoiceField(choices=ServiceLevel.choices)
    tracking_number = serializers.CharField()
    status = serializers.ChoiceField(choices=ShipmentStatus.choices)
    shipped_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)


class CustomerSummaryOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()


class ExpediteOut(serializers.Serializer):
    active = serializers.BooleanField()
    reason = serializers.CharField()
    requested_by = serializers.CharField()
    requested_at = serializers.DateTimeField(allow_null=True)


class OrderOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    source = serializers.CharField()
    external_ref = serializers.CharField()
    customer = CustomerSummaryOut()
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    allowed_actions = serializers.ListField(child=serializers.CharField())
    currency = serializers.CharField()
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2)
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    paid_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    refunded_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    payment_status = serializers.ChoiceField(choices=PaymentStatus.choices)
    shipping_address = serializers.DictField(child=serializers.CharField(allow_blank=True))
    placed_at = serializers.DateTimeField()
    ship_by = serializers.DateField(allow_null=True)
    deliver_by = serializers.DateField(allow_null=True)
    expedite = ExpediteOut()
    lines = LineOut(many=True)
    shipments = ShipmentOut(many=True)
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class OrderFeedOut(serializers.Serializer):
    results = OrderOut(many=True)
    next_cursor = serializers.CharField(help_text=_("Send it back as ?cursor= on the next poll."))
    has_more = serializers.BooleanField(help_text=_("True: poll again at once; false: wait a little."))


class BulkItemOut(serializers.Serializer):
    index = serializers.IntegerField()
    source = serializers.CharField()
    external_ref = serializers.CharField()
    result = serializers.ChoiceField(choices=["created", "updated", "error"])
    id = serializers.IntegerField(required=False)
    number = serializers.CharField(required=False)
    version = serializers.IntegerField(required=False)
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


class BulkOut(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    errors = serializers.IntegerField()
    results = BulkItemOut(many=True)


class CustomerOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    preferred_language = serializers.CharField()
    preferred_channel = serializers.CharField()
    tier = serializers.CharField()
    address_line1 = serializers.CharField()
    address_line2 = serializers.CharField()
    city = serializers.CharField()
    region = serializers.CharField()
    postal_code = serializers.CharField()
    country = serializers.CharField()
    notes = serializers.CharField()
    no_follow_up_calls = serializers.BooleanField()
    external_refs = ExternalRefIn(many=True)
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def _dt(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


#: The order columns the representation needs, read with values(): building model instances for
#: every order, line and shipment was most of a feed page's time (bench/api.py).
ORDER_VALUES = (
    "id",
    "number",
    "source",
    "external_ref",
    "status",
    "held_from_status",
    "currency",
    "subtotal",
    "total",
    "paid_amount",
    "refunded_amount",
    "payment_status",
    *SHIPPING_FIELDS,
    "placed_at",
    "ship_by",
    "deliver_by",
    "expedite",
    "expedite_reason",
    "expedite_requested_by",
    "expedite_requested_at",
    "version",
    "created_at",
    "updated_at",
    "change_seq",
    "customer_id",
    "customer__name",
    "customer__email",
    "customer__phone",
)


@functools.lru_cache(maxsize=64)
def _allowed(status: str, held_from: str) -> tuple[str, ...]:
    return tuple(allowed_actions(status, held_from or None))


def order_dicts(rows: list[dict]) -> list[dict]:
    """The order representation for rows read with ``values(*ORDER_VALUES)``: two more queries
    (lines, shipments) for any number of orders."""
    ids = [row["id"] for row in rows]
    lines: dict[int, list] = {pk: [] for pk in ids}
    shipments: dict[int, list] = {pk: [] for pk in ids}
    if ids:
        for order_id, sku, description, quantity, unit_price in (
            OrderLine.objects.filter(order_id__in=ids)
            .order_by("order_id", "position", "id")
            .values_list("order_id", "sku", "description", "quantity", "unit_price")
        ):
            lines[order_id].append(
                {
                    "sku": sku,
                    "description": description,
                    "quantity": quantity,
                    "unit_price": str(unit_price),
                    "line_total": str(quantity * unit_price),
                }
            )
        for sid, order_id, carrier, level, tracking, state, shipped, delivered in (
            Shipment.objects.filter(order_id__in=ids)
            .order_by("order_id", "shipped_at", "id")
            .values_list(
                "id", "order_id", "carrier", "service_level", "tracking_number", "status", "shipped_at", "delivered_at"
            )
        ):
            shipments[order_id].append(
                {
                    "id": sid,
                    "carrier": carrier,
                    "service_level": level,
                    "tracking_number": tracking,
                    "status": state,
                    "shipped_at": _dt(shipped),
                    "delivered_at": _dt(delivered),
                }
            )
    return [
        {
            "id": r["id"],
            "number": r["number"],
            "source": r["source"],
            "external_ref": r["external_ref"],
            "customer": {
                "id": r["customer_id"],
                "name": r["customer__name"],
                "email": r["customer__email"],
                "phone": r["customer__phone"],
            },
            "status": r["status"],
            "allowed_actions": list(_allowed(r["status"], r["held_from_status"])),
            "currency": r["currency"],
            "subtotal": str(r["subtotal"]),
            "total": str(r["total"]),
            "paid_amount": str(r["paid_amount"]),
            "refunded_amount": str(r["refunded_amount"]),
            "payment_status": r["payment_status"],
            "shipping_address": {
                "name": r["ship_name"],
                "line1": r["ship_line1"],
                "line2": r["ship_line2"],
                "city": r["ship_city"],
                "region": r["ship_region"],
                "postal_code": r["ship_postal_code"],
                "country": r["ship_country"],
            },
            "placed_at": _dt(r["placed_at"]),
            "ship_by": r["ship_by"].isoformat() if r["ship_by"] else None,
            "deliver_by": r["deliver_by"].isoformat() if r["deliver_by"] else None,
            "expedite": {
                "active": r["expedite"],
                "reason": r["expedite_reason"],
                "requested_by": r["expedite_requested_by"],
                "requested_at": _dt(r["expedite_requested_at"]),
            },
            "lines": lines[r["id"]],
            "shipments": shipments[r["id"]],
            "version": r["version"],
            "created_at": _dt(r["created_at"]),
            "updated_at": _dt(r["updated_at"]),
        }
        for r in rows
    ]


# --- the same representation, built by PostgreSQL ---------------------------------------------


def _ts(column: str) -> str:
    """SQL for ``_dt``: ISO 8601 in UTC with Z, microseconds only when not zero (as isoformat());
    NULL stays NULL. (to_json() of a timestamp would drop trailing zeros of the fraction.)"""
    return f"replace(to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '.000000Z', 'Z')"


def _day(column: str) -> str:
    return f"to_char({column}, 'YYYY-MM-DD')"


def _object(pairs: list[tuple[str, str]]) -> str:
    return "json_build_object(" + ", ".join(f"'{key}', {sql}" for key, sql in pairs) + ")"


def _children(o: str, table: str, alias: str, pairs: list[tuple[str, str]], order_by: str) -> str:
    """The order's rows of ``table`` as a JSON array of objects, [] when none."""
    rows = f"SELECT json_agg({_object(pairs)} ORDER BY {order_by}) FROM {table} {alias}"  # noqa: S608 (constants)
    return f"COALESCE(({rows} WHERE {alias}.order_id = {o}.id), '[]'::json)"


def _order_json(o: str) -> str:
    """``order_dicts`` as one SQL expression over the order row ``o``, key for key in the same
    order. Its one %s: the allowed actions by status and held-from status (jsonb)."""
    customer = _object([("id", "c.id"), ("name", "c.name"), ("email", "c.email"), ("phone", "c.phone")])
    customer = f"(SELECT {customer} FROM orders_customer c WHERE c.id = {o}.customer_id)"  # noqa: S608 (constants)
    return _object(
        [
            ("id", f"{o}.id"),
            ("number", f"{o}.number"),
            ("source", f"{o}.source"),
            ("external_ref", f"{o}.external_ref"),
            ("customer", customer),
            ("status", f"{o}.status"),
            ("allowed_actions", f"%s::jsonb -> {o}.status -> {o}.held_from_status"),
            ("currency", f"{o}.currency"),
            ("subtotal", f"{o}.subtotal::text"),
            ("total", f"{o}.total::text"),
            ("paid_amount", f"{o}.paid_amount::text"),
            ("refunded_amount", f"{o}.refunded_amount::text"),
            ("payment_status", f"{o}.payment_status"),
            (
                "shipping_address",
                _object([(name.removeprefix("ship_"), f"{o}.{name}") for name in SHIPPING_FIELDS]),
            ),
            ("placed_at", _ts(f"{o}.placed_at")),
            ("ship_by", _day(f"{o}.ship_by")),
            ("deliver_by", _day(f"{o}.deliver_by")),
            (
                "expedite",
                _object(
                    [
                        ("active", f"{o}.expedite"),
                        ("reason", f"{o}.expedite_reason"),
                        ("requested_by", f"{o}.expedite_requested_by"),
                        ("requested_at", _ts(f"{o}.expedite_requested_at")),
                    ]
                ),
            ),
            (
                "lines",
                _children(
                    o,
                    "orders_orderline",
                    "l",
                    [
                        ("sku", "l.sku"),
                        ("description", "l.description"),
                        ("quantity", "l.quantity"),
                        ("unit_price", "l.unit_price::text"),
                        ("line_total", "(l.quantity * l.unit_price)::text"),
                    ],
                    "l.position, l.id",
                ),
            ),
            (
                "shipments",
                _children(
                    o,
                    "orders_shipment",
                    "s",
                    [
                        ("id", "s.id"),
                        ("carrier", "s.carrier"),
                        ("service_level", "s.service_level"),
                        ("tracking_number", "s.tracking_number"),
                        ("status", "s.status"),
                        ("shipped_at", _ts("s.shipped_at")),
                        ("delivered_at", _ts("s.delivered_at")),
                    ],
                    "s.shipped_at, s.id",
                ),
            ),
            ("version", f"{o}.version"),
            ("created_at", _ts(f"{o}.created_at")),
            ("updated_at", _ts(f"{o}.updated_at")),
        ]
    )


#: The order table as Django names it in a query on Order (order_json_rows).
ORDER_JSON_SQL = _order_json('"orders_order"')


@functools.cache
def _allowed_map() -> str:
    """{status: {held_from or "": [actions]}} for every pair, as ``_allowed`` gives them."""
    statuses = [str(value) for value in OrderStatus.values]
    return json.dumps({status: {held: list(_allowed(status, held)) for held in ["", *statuses]} for status in statuses})


def order_json_rows(queryset) -> list[tuple[int, int, str]]:
    """PostgreSQL only: (change_seq, id, the order's representation as JSON text) for the orders
    of ``queryset`` (of Order), in its order, in one query. The text is what ``order_dicts`` gives
    for the same row (tests/services/test_api_feed_postgres.py compares them); no Python per row."""
    json_text = RawSQL(f"({ORDER_JSON_SQL})::text", [_allowed_map()], output_field=models.TextField())  # noqa: S611
    return list(queryset.values_list("change_seq", "id", json_text))


def customer_dict(customer: Customer) -> dict:
    data = {name: getattr(customer, name) for name in CUSTOMER_FIELDS}
    return {
        "id": customer.pk,
        **data,
        "external_refs": [{"source": r.source, "external_ref": r.external_ref} for r in customer.external_refs.all()],
        "version": customer.version,
        "created_at": _dt(customer.created_at),
        "updated_at": _dt(customer.updated_at),
    }
