"""Order services: creation, promised dates and address, lines."""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, CharField, Value, When
from django.db.models.functions import Cast, Concat, LPad
from django.utils.translation import gettext as _

from fulfillment import clock
from fulfillment.actors import Actor, as_actor
from fulfillment.changefeed import NextChangeSeq
from fulfillment.errors import InvalidInput
from fulfillment.permissions import require

from .. import events
from .. import permissions as perms
from ..models import (
    Customer,
    Order,
    OrderLine,
)
from ._common import (
    LINES_EDITABLE,
    ORDER_DETAIL_FIELDS,
    SHIPPING_FIELDS,
    LineInput,
    _check_dates,
    _check_lines,
    _check_version,
    _clean_text,
    _lock_order,
    _payment_status,
    _subtotal,
    _touch,
    insert_rows,
)

# --- orders: creation and details -------------------------------------------------------


def _prepared_values(
    *,
    customer: Customer,
    lines: Iterable[LineInput],
    currency: str | None = None,
    source: str = "",
    external_ref: str = "",
    ship_by: dt.date | None = None,
    deliver_by: dt.date | None = None,
    placed_at: dt.datetime | None = None,
    shipping: Mapping[str, str] | None = None,
) -> tuple[dict, list[LineInput]]:
    """Check one new order's input; its column values (by attname) and checked lines. Raises InvalidInput."""
    checked = _check_lines(lines)
    _check_dates(ship_by, deliver_by)
    currency = (currency or settings.FD_DEFAULT_CURRENCY).upper()
    if len(currency) != 3 or not currency.isalpha():
        raise InvalidInput(field_errors={"currency": [_("Use a three-letter currency code, e.g. USD.")]})
    source = _clean_text(source, "source", 40)
    external_ref = _clean_text(external_ref, "external_ref", 100)
    if external_ref and not source:
        raise InvalidInput(field_errors={"source": [_("Name the source system of the external reference.")]})
    address = _shipping_values(
        shipping
        or {
            "ship_name": customer.name,
            "ship_line1": customer.address_line1,
            "ship_line2": customer.address_line2,
            "ship_city": customer.city,
            "ship_region": customer.region,
            "ship_postal_code": customer.postal_code,
            "ship_country": customer.country,
        }
    )
    subtotal = _subtotal(checked)
    now = clock.now()
    values = {
        "customer_id": customer.pk,
        "currency": currency,
        "source": source,
        "external_ref": external_ref,
        "ship_by": ship_by,
        "deliver_by": deliver_by,
        "placed_at": placed_at or now,
        "subtotal": subtotal,
        "total": subtotal,
        "created_at": now,
        "updated_at": now,
        **address,
    }
    return values, checked


def _prepared_order(*, customer: Customer, **spec) -> tuple[Order, list[LineInput]]:
    """Check one new order's input and build its (unsaved) row. Raises InvalidInput."""
    values, checked = _prepared_values(customer=customer, **spec)
    del values["customer_id"]
    return Order(customer=customer, **values), checked


def _reference_taken(source: str, external_ref: str) -> InvalidInput:
    return InvalidInput(
        field_errors={
            "external_ref": [_("An order with this reference from %(source)s already exists.") % {"source": source}]
        }
    )


def order_create(*, actor: Actor, customer: Customer, lines: Iterable[LineInput], **details) -> Order:
    """A new order in status *placed*. The shipping address defaults to the customer's.

    ``details``: currency, source, external_ref, ship_by, deliver_by, placed_at, shipping.
    """
    actor = as_actor(actor)
    require(actor, perms.CREATE)
    order, checked = _prepared_order(customer=customer, lines=lines, **details)
    with transaction.atomic():
        if order.external_ref and Order.objects.filter(source=order.source, external_ref=order.external_ref).exists():
            raise _reference_taken(order.source, order.external_ref)
        order.save(force_insert=True)
        order.number = f"{settings.FD_ORDER_NUMBER_PREFIX}{order.pk:07d}"
        Order.objects.filter(pk=order.pk).update(number=order.number, change_seq=NextChangeSeq(Order._meta.db_table))
        _write_lines(order, checked)
        events.order_created(order, actor, line_count=len(checked))
    return order


@dataclass(frozen=True, slots=True)
class CreatedOrder:
    """What the bulk path needs of a new order (no model instance: bench/api.py)."""

    pk: int
    number: str
    source: str
    external_ref: str
    total: Decimal
    currency: str
    updated_at: dt.datetime


def order_create_many(*, actor: Actor, orders: list[dict]) -> list[CreatedOrder]:
    """Many new orders at once (bulk sync): the same checks as ``order_create``, written with one
    statement per table and no model instances. All or nothing: the first refused order raises
    InvalidInput with its ``index``; the caller can then fall back to one order at a time for
    per-order results."""
    actor = as_actor(actor)
    require(actor, perms.CREATE)
    prepared = []
    for index, spec in enumerate(orders):
        try:
            prepared.append(_prepared_values(**spec))
        except InvalidInput as error:
            error.index = index
            raise
    refs = [(v["source"], v["external_ref"]) for v, _lines in prepared if v["external_ref"]]
    if len(set(refs)) != len(refs):
        raise InvalidInput(_("The same reference appears twice in the batch."))
    columns = _order_columns()
    defaults = _order_defaults()
    row_of = operator.itemgetter(*columns)
    rows = [row_of({**defaults, **values}) for values, _lines in prepared]
    with transaction.atomic():
        taken = set(
            Order.objects.filter(external_ref__in=[ref for _s, ref in refs]).values_list("source", "external_ref")
        )
        for source, ref in refs:
            if (source, ref) in taken:
                raise _reference_taken(source, ref)
        pks = _insert_orders(columns, rows)
        created = [
            CreatedOrder(
                pk=pk,
                number=_number(pk),
                source=values["source"],
                external_ref=values["external_ref"],
                total=values["total"],
                currency=values["currency"],
                updated_at=values["updated_at"],
            )
            for pk, (values, _lines) in zip(pks, prepared, strict=True)
        ]
        insert_rows(
            OrderLine,
            ("order_id", "position", "sku", "description", "quantity", "unit_price"),
            [
                (order.pk, position, line.sku, line.description, line.quantity, line.unit_price)
                for order, (_values, checked) in zip(created, prepared, strict=True)
                for position, line in enumerate(checked, start=1)
            ],
        )
        events.orders_created(created, actor, line_counts=[len(checked) for _values, checked in prepared])
    return created


def _number(pk: int) -> str:
    return f"{settings.FD_ORDER_NUMBER_PREFIX}{pk:07d}"


@functools.cache
def _order_columns() -> tuple[str, ...]:
    """Every order column but the key, the number and the feed position (set on insert)."""
    skip = {"id", "number", "change_seq"}
    return tuple(field.attname for field in Order._meta.concrete_fields if field.attname not in skip)


def _order_defaults() -> dict:
    """A new order's field defaults (status placed, unpaid, version 1, …), by attname."""
    blank = Order()
    return {name: getattr(blank, name) for name in _order_columns()}


def _insert_orders(columns: tuple[str, ...], rows: list[tuple]) -> list[int]:
    """The orders inserted with their number and feed position. PostgreSQL: the keys are taken
    from the sequence first, so number and change_seq go into the same INSERT (writing every new
    row a second time cost as much as the insert). Elsewhere: insert, then one UPDATE."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [Order._meta.db_table, len(rows)],
            )
            pks = sorted(pk for (pk,) in cursor.fetchall())
        change_seq, _params = NextChangeSeq(Order._meta.db_table).as_postgresql(None, connection)
        insert_rows(
            Order,
            ("id", "number", *columns),
            [(pk, _number(pk), *row) for pk, row in zip(pks, rows, strict=True)],
            expressions={"change_seq": change_seq},
        )
        return pks
    pks = insert_rows(Order, columns, rows, expressions={"change_seq": "0"}, return_pks=True)
    Order.objects.filter(pk__in=pks).update(number=_number_sql(), change_seq=NextChangeSeq(Order._meta.db_table))
    return pks


def _number_sql():
    """The order number computed by the database, the same as ``_number(pk)``."""
    digits = Cast("id", output_field=CharField())
    prefix = Value(settings.FD_ORDER_NUMBER_PREFIX)
    return Case(
        When(id__lt=10_000_000, then=Concat(prefix, LPad(digits, 7, Value("0")))),
        default=Concat(prefix, digits),
        output_field=CharField(),
    )


def _line_row(order: Order, position: int, line: LineInput) -> OrderLine:
    return OrderLine(
        order=order,
        position=position,
        sku=line.sku,
        description=line.description,
        quantity=line.quantity,
        unit_price=line.unit_price,
    )


def _write_lines(order: Order, lines: list[LineInput]) -> None:
    OrderLine.objects.bulk_create(_line_row(order, position, line) for position, line in enumerate(lines, start=1))


def _shipping_values(data: Mapping) -> dict:
    values = {}
    for name in SHIPPING_FIELDS:
        if name in data:
            limit = Order._meta.get_field(name).max_length
            values[name] = _clean_text(data[name], name, limit)
    if "ship_country" in values:
        values["ship_country"] = values["ship_country"].upper()
    return values


def order_update_details(*, actor: Actor, order: Order, expected_version: int | None = None, **data) -> Order:
    """Change the promised dates, currency or shipping address. Not the status, not the money."""
    actor = as_actor(actor)
    require(actor, perms.CHANGE)
    unknown = set(data) - set(ORDER_DETAIL_FIELDS)
    if unknown:
        raise InvalidInput(field_errors={name: [_("This field cannot be changed here.")] for name in unknown})
    values = _shipping_values(data)
    for name in ("ship_by", "deliver_by"):
        if name in data:
            values[name] = data[name]
    if "currency" in data:
        values["currency"] = (data["currency"] or "").upper()
    with transaction.atomic():
        order = _lock_order(order)
        _check_version(order, expected_version)
        _check_dates(values.get("ship_by", order.ship_by), values.get("deliver_by", order.deliver_by))
        if "currency" in values and values["currency"] != order.currency:
            if len(values["currency"]) != 3 or not values["currency"].isalpha():
                raise InvalidInput(field_errors={"currency": [_("Use a three-letter currency code, e.g. USD.")]})
            if order.paid_amount > 0:
                raise InvalidInput(field_errors={"currency": [_("The currency of a paid order cannot change.")]})
        changes = {k: [_display(getattr(order, k)), _display(v)] for k, v in values.items() if getattr(order, k) != v}
        if not changes:
            return order
        for name, value in values.items():
            setattr(order, name, value)
        _touch(order, list(values))
        events.order_updated(order, actor, changes)
    return order


def _display(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def order_replace_lines(
    *, actor: Actor, order: Order, lines: Iterable[LineInput], expected_version: int | None = None
) -> Order:
    """Replace all lines (e.g. the customer changed the order before packing)."""
    actor = as_actor(actor)
    require(actor, perms.CHANGE)
    checked = _check_lines(lines)
    with transaction.atomic():
        order = _lock_order(order)
        _check_version(order, expected_version)
        if order.status not in LINES_EDITABLE:
            raise InvalidInput(_("Lines can change only before processing starts."))
        subtotal = _subtotal(checked)
        old_total = order.total
        order.lines.all().delete()
        _write_lines(order, checked)
        order.subtotal = order.total = subtotal
        order.payment_status = _payment_status(order.total, order.paid_amount, order.refunded_amount)
        _touch(order, ["subtotal", "total", "payment_status"])
        events.order_updated(order, actor, {"lines": [len(checked)], "total": [str(old_total), str(subtotal)]})
    return order
