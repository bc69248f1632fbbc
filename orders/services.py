"""Every change to customers and orders. One function per business action.

Each one: open a transaction → lock the row → check the actor's permission and the
transition table → write → record the timeline event. A broken rule raises a domain error
from ``fulfillment.errors``; nothing is written then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from fulfillment import clock
from fulfillment.actors import Actor, as_actor
from fulfillment.errors import Conflict, InvalidInput, TransitionNotAllowed
from fulfillment.permissions import require
from fulfillment.tiers import ContactChannel

from . import events
from . import permissions as perms
from .enums import (
    EXPEDITABLE,
    HANDOFF_TRANSITIONS,
    TRANSITIONS,
    Department,
    HandoffState,
    OrderStatus,
    PaymentKind,
    PaymentStatus,
    ServiceLevel,
    ShipmentStatus,
    allowed_targets,
)
from .models import (
    ZERO,
    Customer,
    CustomerExternalRef,
    Handoff,
    Order,
    OrderLine,
    Payment,
    Shipment,
    phone_digits,
)

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
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "notes",
)
ORDER_DETAIL_FIELDS = (
    "ship_name",
    "ship_line1",
    "ship_line2",
    "ship_city",
    "ship_region",
    "ship_postal_code",
    "ship_country",
    "ship_by",
    "deliver_by",
    "currency",
)
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
    """Save ``fields`` and move the order's version and updated_at on."""
    order.updated_at = clock.now()
    Order.objects.filter(pk=order.pk).update(
        version=F("version") + 1,
        updated_at=order.updated_at,
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


# --- customers --------------------------------------------------------------------------


def _customer_values(data: Mapping) -> dict:
    values = {}
    limits = {f.name: f.max_length for f in Customer._meta.get_fields() if hasattr(f, "max_length")}
    for name in CUSTOMER_FIELDS:
        if name in data:
            values[name] = _clean_text(data[name], name, limits.get(name) or 5000, required=name == "name")
    if "preferred_language" in values and values["preferred_language"] not in dict(settings.LANGUAGES):
        raise InvalidInput(field_errors={"preferred_language": [_("Choose one of the offered languages.")]})
    if "preferred_channel" in values and values["preferred_channel"] not in ContactChannel.values:
        raise InvalidInput(field_errors={"preferred_channel": [_("Choose one of the offered channels.")]})
    if "country" in values:
        values["country"] = values["country"].upper()
    return values


def customer_create(*, actor: Actor, external_refs: Iterable[tuple[str, str]] = (), **data) -> Customer:
    actor = as_actor(actor)
    require(actor, perms.CUSTOMER_CHANGE)
    values = _customer_values(data)
    if not values.get("name"):
        raise InvalidInput(field_errors={"name": [_("This field is required.")]})
    with transaction.atomic():
        customer = Customer(**values)
        customer.phone_digits = phone_digits(customer.phone)
        customer.save()
        events.customer_created(customer, actor)
        for source, ref in external_refs:
            _add_customer_ref(customer, actor, source, ref)
    return customer


def customer_update(*, actor: Actor, customer: Customer, expected_version: int | None = None, **data) -> Customer:
    actor = as_actor(actor)
    require(actor, perms.CUSTOMER_CHANGE)
    values = _customer_values(data)
    with transaction.atomic():
        customer = _lock_customer(customer)
        _check_version(customer, expected_version)
        changes = {k: [str(getattr(customer, k)), str(v)] for k, v in values.items() if getattr(customer, k) != v}
        if not changes:
            return customer
        for name, value in values.items():
            setattr(customer, name, value)
        customer.phone_digits = phone_digits(customer.phone)
        customer.updated_at = clock.now()
        customer.version += 1
        customer.save(update_fields=[*values, "phone_digits", "updated_at", "version"])
        events.customer_updated(customer, actor, changes)
    return customer


def _add_customer_ref(customer: Customer, actor: Actor, source: str, ref: str) -> CustomerExternalRef:
    source = _clean_text(source, "source", 40, required=True)
    ref = _clean_text(ref, "external_ref", 100, required=True)
    try:
        with transaction.atomic():
            row = CustomerExternalRef.objects.create(customer=customer, source=source, external_ref=ref)
    except IntegrityError:
        raise InvalidInput(
            field_errors={
                "external_ref": [_("Another customer already has this reference in %(source)s.") % {"source": source}]
            }
        ) from None
    events.customer_external_ref_added(customer, actor, source=source, ref=ref)
    return row


def customer_add_external_ref(*, actor: Actor, customer: Customer, source: str, external_ref: str):
    actor = as_actor(actor)
    require(actor, perms.CUSTOMER_CHANGE)
    with transaction.atomic():
        customer = _lock_customer(customer)
        row = _add_customer_ref(customer, actor, source, external_ref)
        customer.updated_at = clock.now()  # a change like any other: stale pages and syncs must see it
        customer.version += 1
        customer.save(update_fields=["updated_at", "version"])
    return row


# --- orders: creation and details -------------------------------------------------------


def order_create(
    *,
    actor: Actor,
    customer: Customer,
    lines: Iterable[LineInput],
    currency: str | None = None,
    source: str = "",
    external_ref: str = "",
    ship_by: dt.date | None = None,
    deliver_by: dt.date | None = None,
    placed_at: dt.datetime | None = None,
    shipping: Mapping[str, str] | None = None,
) -> Order:
    """A new order in status *placed*. The shipping address defaults to the customer's."""
    actor = as_actor(actor)
    require(actor, perms.CREATE)
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
    subtotal = sum((line.quantity * line.unit_price for line in checked), ZERO)
    if subtotal > MAX_MONEY:
        raise InvalidInput(field_errors={"lines": [_("The order total is too large.")]})
    now = clock.now()
    with transaction.atomic():
        if external_ref and Order.objects.filter(source=source, external_ref=external_ref).exists():
            raise InvalidInput(
                field_errors={
                    "external_ref": [
                        _("An order with this reference from %(source)s already exists.") % {"source": source}
                    ]
                }
            )
        order = Order.objects.create(
            customer=customer,
            currency=currency,
            source=source,
            external_ref=external_ref,
            ship_by=ship_by,
            deliver_by=deliver_by,
            placed_at=placed_at or now,
            subtotal=subtotal,
            total=subtotal,
            created_at=now,
            updated_at=now,
            **address,
        )
        order.number = f"{settings.FD_ORDER_NUMBER_PREFIX}{order.pk:07d}"
        order.save(update_fields=["number"])
        OrderLine.objects.bulk_create(
            OrderLine(
                order=order,
                position=i,
                sku=line.sku,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
            )
            for i, line in enumerate(checked, start=1)
        )
        events.order_created(order, actor)
    return order


def _shipping_values(data: Mapping) -> dict:
    values = {}
    for name in (
        "ship_name",
        "ship_line1",
        "ship_line2",
        "ship_city",
        "ship_region",
        "ship_postal_code",
        "ship_country",
    ):
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
        subtotal = sum((line.quantity * line.unit_price for line in checked), ZERO)
        if subtotal > MAX_MONEY:
            raise InvalidInput(field_errors={"lines": [_("The order total is too large.")]})
        old_total = order.total
        order.lines.all().delete()
        OrderLine.objects.bulk_create(
            OrderLine(
                order=order,
                position=i,
                sku=line.sku,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
            )
            for i, line in enumerate(checked, start=1)
        )
        order.subtotal = order.total = subtotal
        order.payment_status = _payment_status(order.total, order.paid_amount, order.refunded_amount)
        _touch(order, ["subtotal", "total", "payment_status"])
        events.order_updated(order, actor, {"lines": [len(checked)], "total": [str(old_total), str(subtotal)]})
    return order


# --- orders: status ----------------------------------------------------------------------


def _move(
    order: Order, actor: Actor, target: str, *, reason: str = "", extra_fields=(), releasing: bool = False
) -> Order:
    """Apply one transition from the table to a locked order, and record it."""
    allowed = allowed_targets(order.status, order.held_from_status or None, releasing=releasing)
    if target not in allowed:
        raise TransitionNotAllowed(current=order.status, requested=target, allowed=allowed, labels=STATUS_LABELS)
    old = order.status
    order.status = target
    fields = ["status", *extra_fields]
    if target == OrderStatus.ON_HOLD:
        order.held_from_status = old
        fields.append("held_from_status")
    elif old == OrderStatus.ON_HOLD:
        order.held_from_status = ""
        fields.append("held_from_status")
    _touch(order, fields)
    events.status_changed(order, actor, old=old, new=target, reason=reason)
    return order


def _transition(
    order: Order, actor: Actor, target: str, rule, *, reason: str = "", expected_version: int | None = None
) -> Order:
    actor = as_actor(actor)
    require(actor, rule)
    reason = _clean_text(reason, "reason", 500)
    with transaction.atomic():
        order = _lock_order(order)
        _check_version(order, expected_version)
        return _move(order, actor, target, reason=reason)


def order_confirm(*, actor: Actor, order: Order, expected_version: int | None = None) -> Order:
    return _transition(order, actor, OrderStatus.CONFIRMED, perms.FULFIL, expected_version=expected_version)


def order_start_processing(*, actor: Actor, order: Order, expected_version: int | None = None) -> Order:
    return _transition(order, actor, OrderStatus.PROCESSING, perms.FULFIL, expected_version=expected_version)


def order_pack(*, actor: Actor, order: Order, expected_version: int | None = None) -> Order:
    return _transition(order, actor, OrderStatus.PACKED, perms.FULFIL, expected_version=expected_version)


def order_hold(*, actor: Actor, order: Order, reason: str, expected_version: int | None = None) -> Order:
    if not (reason or "").strip():
        raise InvalidInput(field_errors={"reason": [_("Say why the order is on hold.")]})
    return _transition(
        order, actor, OrderStatus.ON_HOLD, perms.FULFIL, reason=reason, expected_version=expected_version
    )


def order_release(*, actor: Actor, order: Order, expected_version: int | None = None) -> Order:
    """Take an order off hold, back to the status it was held from."""
    actor = as_actor(actor)
    require(actor, perms.FULFIL)
    with transaction.atomic():
        order = _lock_order(order)
        _check_version(order, expected_version)
        if order.status != OrderStatus.ON_HOLD:
            raise TransitionNotAllowed(
                current=order.status,
                requested="release",
                allowed=TRANSITIONS.get(order.status, ()),
                labels=STATUS_LABELS,
            )
        return _move(order, actor, order.held_from_status or OrderStatus.PLACED, releasing=True)


def order_cancel(*, actor: Actor, order: Order, reason: str, expected_version: int | None = None) -> Order:
    if not (reason or "").strip():
        raise InvalidInput(field_errors={"reason": [_("Say why the order is cancelled.")]})
    return _transition(
        order, actor, OrderStatus.CANCELLED, perms.CANCEL, reason=reason, expected_version=expected_version
    )


def order_mark_returned(*, actor: Actor, order: Order, reason: str, expected_version: int | None = None) -> Order:
    if not (reason or "").strip():
        raise InvalidInput(field_errors={"reason": [_("Say why the order came back.")]})
    return _transition(
        order, actor, OrderStatus.RETURNED, perms.FULFIL, reason=reason, expected_version=expected_version
    )


def order_ship(
    *,
    actor: Actor,
    order: Order,
    carrier: str,
    tracking_number: str,
    service_level: str = ServiceLevel.STANDARD,
    expected_version: int | None = None,
) -> Shipment:
    """Hand the parcel to a carrier: a shipment with its tracking number, and status *shipped*."""
    actor = as_actor(actor)
    require(actor, perms.FULFIL)
    carrier = _clean_text(carrier, "carrier", 60, required=True)
    tracking_number = _clean_text(tracking_number, "tracking_number", 80, required=True)
    if service_level not in ServiceLevel.values:
        raise InvalidInput(field_errors={"service_level": [_("Choose one of the offered service levels.")]})
    with transaction.atomic():
        order = _lock_order(order)
        _check_version(order, expected_version)
        now = clock.now()
        _move(order, actor, OrderStatus.SHIPPED)
        shipment = Shipment.objects.create(
            order=order,
            carrier=carrier,
            tracking_number=tracking_number,
            service_level=service_level,
            shipped_at=now,
            updated_at=now,
        )
        events.shipment_created(order, actor, shipment=shipment)
    return shipment


def order_deliver(*, actor: Actor, order: Order, expected_version: int | None = None) -> Order:
    """The customer has it: status *delivered*, and every open shipment delivered."""
    actor = as_actor(actor)
    require(actor, perms.FULFIL)
    with transaction.atomic():
        order = _lock_order(order)
        _check_version(order, expected_version)
        _move(order, actor, OrderStatus.DELIVERED)
        now = clock.now()
        for shipment in order.shipments.select_for_update().exclude(status=ShipmentStatus.DELIVERED):
            old = shipment.status
            shipment.status, shipment.delivered_at, shipment.updated_at = ShipmentStatus.DELIVERED, now, now
            shipment.save(update_fields=["status", "delivered_at", "updated_at"])
            events.shipment_updated(order, actor, shipment=shipment, old=old, new=shipment.status)
    return order


def shipment_update_status(*, actor: Actor, shipment: Shipment, status: str) -> Shipment:
    """A carrier update (in transit, out for delivery, problem, …). Delivered moves the order too."""
    actor = as_actor(actor)
    require(actor, perms.FULFIL)
    if status not in ShipmentStatus.values:
        raise InvalidInput(field_errors={"status": [_("Choose one of the offered delivery statuses.")]})
    with transaction.atomic():
        order = _lock_order(shipment.order_id)
        shipment = Shipment.objects.select_for_update().get(pk=shipment.pk)
        if shipment.status == status:
            return shipment
        old = shipment.status
        now = clock.now()
        shipment.status, shipment.updated_at = status, now
        shipment.delivered_at = now if status == ShipmentStatus.DELIVERED else None
        shipment.save(update_fields=["status", "updated_at", "delivered_at"])
        events.shipment_updated(order, actor, shipment=shipment, old=old, new=status)
        all_delivered = not order.shipments.exclude(status=ShipmentStatus.DELIVERED).exists()
        if status == ShipmentStatus.DELIVERED and all_delivered and order.status == OrderStatus.SHIPPED:
            _move(order, actor, OrderStatus.DELIVERED)
        else:
            _touch(order, [])
    return shipment


# --- orders: money ----------------------------------------------------------------------------


def order_record_payment(*, actor: Actor, order: Order, amount, reference: str = "") -> Payment:
    actor = as_actor(actor)
    require(actor, perms.PAYMENT)
    amount = _money(amount, "amount")
    reference = _clean_text(reference, "reference", 100)
    with transaction.atomic():
        order = _lock_order(order)
        if order.status == OrderStatus.CANCELLED:
            raise InvalidInput(_("A cancelled order takes no payments."))
        if order.paid_amount + amount > MAX_MONEY:
            raise InvalidInput(field_errors={"amount": [_("The amount is too large.")]})
        payment = Payment.objects.create(
            order=order, kind=PaymentKind.PAYMENT, amount=amount, reference=reference, actor_name=actor.name[:150]
        )
        order.paid_amount += amount
        order.payment_status = _payment_status(order.total, order.paid_amount, order.refunded_amount)
        _touch(order, ["paid_amount", "payment_status"])
        events.payment_recorded(order, actor, amount=amount, reference=reference)
    return payment


def order_refund(*, actor: Actor, order: Order, amount, reason: str, reference: str = "") -> Payment:
    """Give money back. Never more than was paid and not yet refunded."""
    actor = as_actor(actor)
    require(actor, perms.REFUND)
    amount = _money(amount, "amount")
    reason = _clean_text(reason, "reason", 500, required=True)
    reference = _clean_text(reference, "reference", 100)
    with transaction.atomic():
        order = _lock_order(order)
        refundable = order.paid_amount - order.refunded_amount
        if amount > refundable:
            raise InvalidInput(
                _("A refund cannot be more than what was paid and not yet refunded."),
                field_errors={
                    "amount": [
                        _("At most %(amount)s %(currency)s can be refunded.")
                        % {"amount": refundable, "currency": order.currency}
                    ]
                },
            )
        payment = Payment.objects.create(
            order=order,
            kind=PaymentKind.REFUND,
            amount=amount,
            reference=reference,
            note=reason,
            actor_name=actor.name[:150],
        )
        order.refunded_amount += amount
        order.payment_status = _payment_status(order.total, order.paid_amount, order.refunded_amount)
        _touch(order, ["refunded_amount", "payment_status"])
        events.refund_recorded(order, actor, amount=amount, reason=reason)
    return payment


# --- orders: expedite, notes, hand-offs -----------------------------------------------------


def order_request_expedite(*, actor: Actor, order: Order, reason: str, requested_by: str) -> Order:
    actor = as_actor(actor)
    require(actor, perms.EXPEDITE)
    reason = _clean_text(reason, "reason", 500, required=True)
    requested_by = _clean_text(requested_by, "requested_by", 150, required=True)
    with transaction.atomic():
        order = _lock_order(order)
        if order.status not in EXPEDITABLE:
            raise InvalidInput(_("Only an order on its way can be expedited."))
        order.expedite = True
        order.expedite_reason = reason
        order.expedite_requested_by = requested_by
        order.expedite_requested_at = clock.now()
        _touch(order, ["expedite", "expedite_reason", "expedite_requested_by", "expedite_requested_at"])
        events.expedite_requested(order, actor, reason=reason, requested_by=requested_by)
    return order


def order_clear_expedite(*, actor: Actor, order: Order, reason: str = "") -> Order:
    actor = as_actor(actor)
    require(actor, perms.EXPEDITE)
    reason = _clean_text(reason, "reason", 500)
    with transaction.atomic():
        order = _lock_order(order)
        if not order.expedite:
            raise InvalidInput(_("This order is not being expedited."))
        order.expedite = False
        _touch(order, ["expedite"])
        events.expedite_cleared(order, actor, reason=reason)
    return order


def order_add_note(*, actor: Actor, order: Order, text: str) -> Order:
    actor = as_actor(actor)
    require(actor, perms.NOTE)
    text = _clean_text(text, "text", 5000, required=True)
    with transaction.atomic():
        order = _lock_order(order)
        _touch(order, [])
        events.note_added(order, actor, text=text)
    return order


def handoff_create(
    *, actor: Actor, order: Order, department: str, summary: str, owner=None, due_date: dt.date | None = None
) -> Handoff:
    """Hand work to another department, with an owner and a due date."""
    actor = as_actor(actor)
    require(actor, perms.HANDOFF)
    if department not in Department.values:
        raise InvalidInput(field_errors={"department": [_("Choose one of the offered departments.")]})
    summary = _clean_text(summary, "summary", 500, required=True)
    if owner is not None and not owner.is_active:
        raise InvalidInput(field_errors={"owner": [_("This person can no longer take work.")]})
    if due_date and due_date < clock.today():
        raise InvalidInput(field_errors={"due_date": [_("The due date is in the past.")]})
    with transaction.atomic():
        order = _lock_order(order)
        now = clock.now()
        handoff = Handoff.objects.create(
            order=order,
            department=department,
            summary=summary,
            owner=owner,
            due_date=due_date,
            created_at=now,
            updated_at=now,
            created_by_name=actor.name[:150],
        )
        _touch(order, [])
        events.handoff_created(order, actor, handoff=handoff)
    return handoff


def handoff_set_state(*, actor: Actor, handoff: Handoff, state: str, note: str = "") -> Handoff:
    actor = as_actor(actor)
    require(actor, perms.HANDOFF)
    note = _clean_text(note, "note", 500)
    with transaction.atomic():
        order = _lock_order(handoff.order_id)
        handoff = Handoff.objects.select_for_update().get(pk=handoff.pk)
        allowed = HANDOFF_TRANSITIONS.get(handoff.state, frozenset())
        if state not in allowed:
            raise TransitionNotAllowed(
                current=handoff.state, requested=state, allowed=allowed, labels=dict(HandoffState.choices)
            )
        old = handoff.state
        now = clock.now()
        handoff.state, handoff.updated_at = state, now
        handoff.completed_at = now if state == HandoffState.DONE else None
        handoff.save(update_fields=["state", "updated_at", "completed_at"])
        _touch(order, [])
        events.handoff_changed(order, actor, handoff=handoff, old=old, new=state, note=note)
    return handoff
