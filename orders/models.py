"""Customers, orders, lines, payments and refunds, shipments, hand-offs, and their timelines.

Tables, constraints and indexes only: every change goes through ``orders/services.py``.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fulfillment import clock
from fulfillment.models import TimelineEvent
from fulfillment.tiers import ContactChannel

from .enums import (
    NOT_DELIVERED,
    NOT_SHIPPED,
    CustomerEventType,
    CustomerTier,
    Department,
    HandoffState,
    OrderEventType,
    OrderStatus,
    PaymentKind,
    PaymentStatus,
    RiskReason,
    ServiceLevel,
    ShipmentStatus,
    allowed_actions,
)

MONEY = {"max_digits": 12, "decimal_places": 2}
ZERO = Decimal("0.00")


def phone_digits(value: str) -> str:
    """The digits of a phone number, for lookup ("+1 (555) 010-2030" → "15550102030")."""
    return re.sub(r"\D", "", value or "")


class CustomerQuerySet(models.QuerySet):
    def with_order_count(self):
        return self.annotate(order_count=models.Count("orders"))


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_digits = models.CharField(max_length=40, blank=True, editable=False, db_index=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    preferred_channel = models.CharField(
        _("preferred contact channel"),
        max_length=10,
        choices=ContactChannel.choices,
        default=ContactChannel.EMAIL,
    )
    tier = models.CharField(
        _("customer tier"), max_length=10, choices=CustomerTier.choices, default=CustomerTier.STANDARD
    )
    address_line1 = models.CharField(_("address line 1"), max_length=200, blank=True)
    address_line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    no_follow_up_calls = models.BooleanField(
        _("no follow-up calls"), default=False, help_text=_("The customer asked not to be called after a resolution.")
    )
    city = models.CharField(_("city"), max_length=100, blank=True)
    region = models.CharField(_("state / region"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("ISO code, e.g. IN"))
    notes = models.TextField(_("notes"), blank=True, max_length=5000)
    created_at = models.DateTimeField(_("created"), default=clock.now)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)
    version = models.PositiveIntegerField(default=1)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name", "id"]
        indexes = [
            models.Index(models.functions.Upper("name"), name="customer_name_upper_idx"),
            models.Index(models.functions.Upper("email"), name="customer_email_upper_idx"),
            models.Index(fields=["updated_at", "id"], name="customer_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="customer_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def postal_address(self) -> str:
        parts = [
            self.address_line1,
            self.address_line2,
            " ".join(p for p in [self.postal_code, self.city] if p),
            self.region,
            self.country,
        ]
        return "\n".join(p for p in parts if p)


class CustomerExternalRef(models.Model):
    """The customer's id in a source system (shop front, ERP, …): unique per source."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="external_refs")
    source = models.CharField(_("source system"), max_length=40)
    external_ref = models.CharField(_("external reference"), max_length=100)

    class Meta:
        verbose_name = _("customer external reference")
        verbose_name_plural = _("customer external references")
        constraints = [
            models.UniqueConstraint(fields=["source", "external_ref"], name="customer_ref_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_ref}"


class OrderQuerySet(models.QuerySet):
    def late(self, today):
        return self.filter(late_q(today))

    def at_risk(self, today, days: int):
        return self.filter(at_risk_q(today, days))


def late_q(today) -> Q:
    """Not shipped by its ship-by date, or not delivered by its deliver-by date."""
    return Q(status__in=NOT_SHIPPED, ship_by__lt=today) | Q(status__in=NOT_DELIVERED, deliver_by__lt=today)


def at_risk_q(today, days: int) -> Q:
    """Not late yet, but a promised date falls within ``days`` days."""
    horizon = today + dt.timedelta(days=days)
    soon = Q(status__in=NOT_SHIPPED, ship_by__gte=today, ship_by__lte=horizon) | Q(
        status__in=NOT_DELIVERED, deliver_by__gte=today, deliver_by__lte=horizon
    )
    return soon & ~late_q(today)


class Order(models.Model):
    number = models.CharField(_("order number"), max_length=30, unique=True, null=True, blank=True)
    source = models.CharField(_("source system"), max_length=40, blank=True)
    external_ref = models.CharField(_("external reference"), max_length=100, blank=True)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    held_from_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    subtotal = models.DecimalField(_("subtotal"), default=ZERO, editable=False, **MONEY)
    total = models.DecimalField(_("total"), default=ZERO, editable=False, **MONEY)
    paid_amount = models.DecimalField(_("paid"), default=ZERO, editable=False, **MONEY)
    refunded_amount = models.DecimalField(_("refunded"), default=ZERO, editable=False, **MONEY)
    payment_status = models.CharField(
        _("payment status"),
        max_length=20,
        choices=PaymentStatus.choices,
        default=PaymentStatus.UNPAID,
        editable=False,
    )
    ship_name = models.CharField(_("ship to"), max_length=200, blank=True)
    ship_line1 = models.CharField(_("address line 1"), max_length=200, blank=True)
    ship_line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    ship_city = models.CharField(_("city"), max_length=100, blank=True)
    ship_region = models.CharField(_("state / region"), max_length=100, blank=True)
    ship_postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    ship_country = models.CharField(_("country"), max_length=2, blank=True)
    placed_at = models.DateTimeField(_("placed"), default=clock.now)
    ship_by = models.DateField(_("ship by"), null=True, blank=True)
    deliver_by = models.DateField(_("deliver by"), null=True, blank=True)
    expedite = models.BooleanField(_("expedite"), default=False)
    expedite_reason = models.CharField(_("expedite reason"), max_length=500, blank=True)
    expedite_requested_by = models.CharField(_("expedite asked by"), max_length=150, blank=True)
    expedite_requested_at = models.DateTimeField(_("expedite asked at"), null=True, blank=True)
    #: Set by the scheduled sweep when the order missed its ship-by or deliver-by date
    #: (``risk_reason`` says which); cleared when it ships or is delivered.
    risk_flagged_at = models.DateTimeField(_("flagged at risk"), null=True, blank=True)
    risk_reason = models.CharField(_("at risk because"), max_length=20, choices=RiskReason.choices, blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)
    version = models.PositiveIntegerField(default=1)
    #: Position in the sync feed; see fulfillment/changefeed.py. Set by services on every change.
    change_seq = models.BigIntegerField(default=0, editable=False)

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-id"]
        indexes = [
            models.Index(fields=["-placed_at", "-id"], name="order_placed_idx"),
            models.Index(fields=["status", "-placed_at", "-id"], name="order_status_placed_idx"),
            models.Index(fields=["customer", "-placed_at"], name="order_customer_placed_idx"),
            models.Index(fields=["-placed_at", "-id"], condition=Q(expedite=True), name="order_expedite_idx"),
            # the reports: expedited orders promised in a date range
            models.Index(fields=["ship_by"], condition=Q(expedite=True), name="order_expedite_ship_by_idx"),
            models.Index(fields=["deliver_by"], condition=Q(expedite=True), name="order_expedite_deliver_by_idx"),
            models.Index(fields=["ship_by"], condition=Q(status__in=NOT_SHIPPED), name="order_open_ship_by_idx"),
            models.Index(
                fields=["deliver_by"], condition=Q(status__in=NOT_DELIVERED), name="order_open_deliver_by_idx"
            ),
            models.Index(fields=["updated_at", "id"], name="order_updated_idx"),
            models.Index(fields=["change_seq", "id"], name="order_change_seq_idx"),
            models.Index(fields=["external_ref"], name="order_external_ref_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_ref"],
                condition=~Q(external_ref=""),
                name="order_source_ref_unique",
            ),
            models.CheckConstraint(condition=Q(status__in=OrderStatus.values), name="order_status_valid"),
            models.CheckConstraint(condition=Q(paid_amount__gte=0), name="order_paid_not_negative"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=models.F("paid_amount")),
                name="order_refund_within_paid",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(
                condition=Q(ship_by__isnull=True) | Q(deliver_by__isnull=True) | Q(ship_by__lte=models.F("deliver_by")),
                name="order_ship_before_deliver",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    @property
    def allowed_actions(self) -> list[str]:
        return allowed_actions(self.status, self.held_from_status or None)

    @property
    def is_late(self) -> bool:
        today = clock.today()
        return bool(
            (self.status in NOT_SHIPPED and self.ship_by and self.ship_by < today)
            or (self.status in NOT_DELIVERED and self.deliver_by and self.deliver_by < today)
        )

    @property
    def is_at_risk(self) -> bool:
        if self.is_late:
            return False
        today = clock.today()
        horizon = today + dt.timedelta(days=settings.FD_AT_RISK_DAYS)
        return bool(
            (self.status in NOT_SHIPPED and self.ship_by and today <= self.ship_by <= horizon)
            or (self.status in NOT_DELIVERED and self.deliver_by and today <= self.deliver_by <= horizon)
        )

    @property
    def balance_paid(self) -> Decimal:
        """What the customer has paid and not been refunded."""
        return self.paid_amount - self.refunded_amount

    @property
    def shipping_address(self) -> str:
        parts = [
            self.ship_name,
            self.ship_line1,
            self.ship_line2,
            " ".join(p for p in [self.ship_postal_code, self.ship_city] if p),
            self.ship_region,
            self.ship_country,
        ]
        return "\n".join(p for p in parts if p)


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    sku = models.CharField(_("SKU"), max_length=64)
    description = models.CharField(_("description"), max_length=300, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), **MONEY)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "position", "id"]
        indexes = [models.Index(fields=["sku"], name="orderline_sku_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orderline_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="orderline_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"

    @property
    def line_total(self) -> Decimal:
        return self.quantity * self.unit_price


class Payment(models.Model):
    """A payment received or a refund given. The order's paid/refunded totals follow these rows."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    kind = models.CharField(_("kind"), max_length=10, choices=PaymentKind.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("time"), default=clock.now)
    actor_name = models.CharField(_("recorded by"), max_length=150)

    class Meta:
        verbose_name = _("payment or refund")
        verbose_name_plural = _("payments and refunds")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(kind__in=PaymentKind.values), name="payment_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class Shipment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    carrier = models.CharField(_("carrier"), max_length=60)
    service_level = models.CharField(
        _("service level"), max_length=20, choices=ServiceLevel.choices, default=ServiceLevel.STANDARD
    )
    tracking_number = models.CharField(_("tracking number"), max_length=80)
    status = models.CharField(
        _("delivery status"),
        max_length=20,
        choices=ShipmentStatus.choices,
        default=ShipmentStatus.IN_TRANSIT,
    )
    shipped_at = models.DateTimeField(_("shipped"), default=clock.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["shipped_at", "id"]
        indexes = [models.Index(fields=["tracking_number"], name="shipment_tracking_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ShipmentStatus.values), name="shipment_status_valid"),
            models.CheckConstraint(condition=~Q(tracking_number=""), name="shipment_tracking_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"


class Handoff(models.Model):
    """Work handed to another department (warehouse, shipping, billing, technical, returns)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="handoffs")
    department = models.CharField(_("department"), max_length=20, choices=Department.choices)
    summary = models.CharField(_("what is needed"), max_length=500)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="handoffs",
    )
    due_date = models.DateField(_("due"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=20, choices=HandoffState.choices, default=HandoffState.OPEN)
    created_at = models.DateTimeField(_("created"), default=clock.now)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    created_by_name = models.CharField(_("created by"), max_length=150)

    class Meta:
        verbose_name = _("department hand-off")
        verbose_name_plural = _("department hand-offs")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["department", "state", "due_date"], name="handoff_dept_state_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(department__in=Department.values), name="handoff_department_valid"),
            models.CheckConstraint(condition=Q(state__in=HandoffState.values), name="handoff_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_department_display()}: {self.summary[:40]}"

    @property
    def is_overdue(self) -> bool:
        return bool(
            self.due_date
            and self.state in (HandoffState.OPEN, HandoffState.IN_PROGRESS)
            and self.due_date < clock.today()
        )


class OrderEvent(TimelineEvent):
    """One entry on an order's timeline."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(_("event"), max_length=30, choices=OrderEventType.choices)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at", "id"], name="orderevent_order_idx")]

    def __str__(self) -> str:
        return f"{self.get_type_display()} · {self.actor_name}"


class CustomerEvent(TimelineEvent):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(_("event"), max_length=30, choices=CustomerEventType.choices)

    class Meta:
        verbose_name = _("customer event")
        verbose_name_plural = _("customer events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["customer", "created_at", "id"], name="customerevent_cust_idx")]

    def __str__(self) -> str:
        return f"{self.get_type_display()} · {self.actor_name}"
