"""Helpers shared by the order services: input checks, row locks, version bumps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import F
from django.utils.translation import gettext as _

from fulfillment import clock
from fulfillment.changefeed import NextChangeSeq
from fulfillment.errors import Conflict, InvalidInput

from ..enums import (
    OrderStatus,
    PaymentStatus,
)
from ..models import ZERO, Customer, Order

CENT = Decimal("0.01")
STATUS_LABELS = dict(OrderStatus.choices)
MAX_MONEY = Decimal("9999999999.99")
MAX_QUANTITY = 1_000_000
MAX_LINES = 500

CUSTOMER_FIELDS = (
    "name",
    "email",
    "phone",
    "preferred_language",
    "preferred_channel",
    "tier",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "notes",
    "no_follow_up_calls",
)
SHIPPING_FIELDS = (
    "ship_name",
    "ship_line1",
    "ship_line2",
    "ship_city",
    "ship_region",
    "ship_postal_code",
    "ship_country",
)
ORDER_DETAIL_FIELDS = (*SHIPPING_FIELDS, "ship_by", "deliver_by", "currency")
#: Lines may change only while nothing has been packed.
LINES_EDITABLE = (OrderStatus.PLACED, OrderStatus.CONFIRMED, OrderStatus.ON_HOLD)


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int
    unit_price: Decimal
    description: str = ""


# --- helpers -------------------------------------------------------------------------


def _money(value, field: str, *, allow_zero: bool = False) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidInput(field_errors={field: [_("Enter an amount, e.g. 12.50.")]}) from None
    if not amount.is_finite():
        raise InvalidInput(field_errors={field: [_("Enter an amount, e.g. 12.50.")]})
    if amount < 0 or (amount == 0 and not allow_zero):
        raise InvalidInput(field_errors={field: [_("The amount must be more than zero.")]})
    # Size before places: quantize() raises InvalidOperation past 28 digits (e.g. "1e30").
    if amount > MAX_MONEY:
        raise InvalidInput(field_errors={field: [_("The amount is too large.")]})
    if amount != amount.quantize(CENT):
        raise InvalidInput(field_errors={field: [_("Use at most two decimal places.")]})
    return amount


def _check_dates(ship_by: dt.date | None, deliver_by: dt.date | None) -> None:
    if ship_by and deliver_by and ship_by > deliver_by:
        raise InvalidInput(
            _("The ship-by date must not be after the deliver-by date."),
            field_errors={"deliver_by": [_("Must be on or after the ship-by date.")]},
        )


def _check_lines(lines: Iterable[LineInput]) -> list[LineInput]:
    lines = list(lines)
    if not lines:
        raise InvalidInput(_("An order needs at least one line."), field_errors={"lines": [_("Add a line.")]})
    if len(lines) > MAX_LINES:
        raise InvalidInput(field_errors={"lines": [_("At most %(n)d lines.") % {"n": MAX_LINES}]})
    checked = []
    for index, line in enumerate(lines):
        prefix = f"lines.{index}."
        sku = (line.sku or "").strip()
        if not sku or len(sku) > 64:
            raise InvalidInput(field_errors={prefix + "sku": [_("Enter a SKU of at most 64 characters.")]})
        if len(line.description or "") > 300:
            raise InvalidInput(field_errors={prefix + "description": [_("At most 300 characters.")]})
        if (
            not isinstance(line.quantity, int)
            or isinstance(line.quantity, bool)
            or not (1 <= line.quantity <= MAX_QUANTITY)
        ):
            raise InvalidInput(
                field_errors={prefix + "quantity": [_("Quantity must be a whole number of at least 1.")]}
            )
        price = _money(line.unit_price, prefix + "unit_price", allow_zero=True)
        checked.append(
            LineInput(sku=sku, quantity=line.quantity, unit_price=price, description=(line.description or "").strip())
        )
    return checked


def _subtotal(lines: list[LineInput]) -> Decimal:
    """The sum of the lines: the order total is always derived, never typed in."""
    subtotal = sum((line.quantity * line.unit_price for line in lines), ZERO)
    if subtotal > MAX_MONEY:
        raise InvalidInput(field_errors={"lines": [_("The order total is too large.")]})
    return subtotal


def _payment_status(total: Decimal, paid: Decimal, refunded: Decimal) -> str:
    if refunded > 0:
        return PaymentStatus.REFUNDED if refunded >= paid else PaymentStatus.PARTIALLY_REFUNDED
    if paid <= 0:
        return PaymentStatus.UNPAID
    if paid < total:
        return PaymentStatus.PARTIALLY_PAID
    return PaymentStatus.PAID


def _lock_order(order: Order | int) -> Order:
    pk = order.pk if isinstance(order, Order) else order
    return Order.objects.select_for_update().get(pk=pk)


def _lock_customer(customer: Customer | int) -> Customer:
    pk = customer.pk if isinstance(customer, Customer) else customer
    return Customer.objects.select_for_update().get(pk=pk)


def _check_version(row, expected_version: int | None) -> None:
    if expected_version is not None and row.version != expected_version:
        raise Conflict()


def _touch(order: Order, fields: list[str]) -> None:
    """Save ``fields`` and move the order's version, updated_at and feed position on."""
    order.updated_at = clock.now()
    Order.objects.filter(pk=order.pk).update(
        version=F("version") + 1,
        updated_at=order.updated_at,
        change_seq=NextChangeSeq(Order._meta.db_table),
        **{name: getattr(order, name) for name in fields},
    )
    order.version += 1


def _clean_text(value: str | None, field: str, max_length: int, *, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(field_errors={field: [_("This field is required.")]})
    if len(text) > max_length:
        raise InvalidInput(field_errors={field: [_("At most %(n)d characters.") % {"n": max_length}]})
    return text


#: Columns whose Python values the backend needs converted (SQLite stores them as text).
_CONVERTED_TYPES = {"DateTimeField", "DateField", "TimeField", "DecimalField", "JSONField"}


def insert_rows(
    model,
    columns: Sequence[str],
    rows: Sequence[Sequence],
    *,
    expressions: Mapping[str, str] | None = None,
    return_pks: bool = False,
) -> list[int]:
    """INSERT rows without building model instances (bulk sync), one statement per chunk.

    ``columns`` are attnames (``customer_id``); each row gives their values in that order.
    ``expressions``: more columns set by a constant SQL expression in every row. Values are
    converted only where the database needs it (times, dates, decimals, JSON), as Django would.
    No ``save()``, no signals, no field defaults: the caller gives every column that matters.
    ``return_pks``: the new primary keys, in row order (else []).
    """
    if not rows:
        return []
    connection = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: the proxy costs a lookup per use
    meta = model._meta
    fields = [meta.get_field(name) for name in columns]
    convert = [(index, field) for index, field in enumerate(fields) if field.get_internal_type() in _CONVERTED_TYPES]
    if convert:
        rows = [list(row) for row in rows]
        for row in rows:
            for index, field in convert:
                if row[index] is not None:
                    row[index] = field.get_db_prep_save(row[index], connection)
    qn = connection.ops.quote_name
    expressions = expressions or {}
    names = ", ".join(qn(field.column) for field in fields) + "".join(f", {qn(name)}" for name in expressions)
    into = f"INSERT INTO {qn(meta.db_table)} ({names}) "
    returning = return_pks and connection.features.can_return_rows_from_bulk_insert
    if return_pks and not returning:
        raise ImproperlyConfigured(
            "The desk runs on PostgreSQL or SQLite 3.35+: this database cannot return the keys of a multi-row INSERT."
        )
    suffix = f" RETURNING {qn(meta.pk.column)}" if returning else ""
    if connection.vendor == "postgresql":
        # One array per column, as Django's bulk_create does there: a short statement to plan.
        arrays = ", ".join(f"(%s)::{field.db_type(connection).split('(')[0]}[]" for field in fields)
        extra = "".join(f", {sql}" for sql in expressions.values())
        sql = f"{into}SELECT u.*{extra} FROM UNNEST({arrays}) AS u{suffix}"  # noqa: S608 (names from the model)
        statements = [(sql, [list(column) for column in zip(*rows, strict=True)])]
    else:
        one = "(" + ", ".join(["%s"] * len(fields) + list(expressions.values())) + ")"
        limit = connection.features.max_query_params
        size = max(1, limit // len(fields)) if limit else len(rows)
        statements = [
            (
                f"{into}VALUES {', '.join([one] * len(rows[start : start + size]))}{suffix}",
                [value for row in rows[start : start + size] for value in row],
            )
            for start in range(0, len(rows), size)
        ]
    pks: list[int] = []
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            if returning:
                # Keys come from one sequence, in row order; sorted in case RETURNING reorders.
                pks += sorted(pk for (pk,) in cursor.fetchall())
    return pks
