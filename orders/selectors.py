"""Reads shared by the browser, the API and tasks: scoping, joins and filters done once."""

from __future__ import annotations

import re

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet

from fulfillment import clock
from fulfillment.actors import Actor, as_actor
from fulfillment.permissions import require

from . import permissions as perms
from .models import Customer, Handoff, Order, OrderEvent, at_risk_q, late_q, phone_digits

ORDER_NUMBER_RE = re.compile(r"^[A-Za-z]{0,6}-?\d{1,12}$")
LIST_COLUMNS = (
    "id",
    "number",
    "status",
    "currency",
    "total",
    "payment_status",
    "placed_at",
    "ship_by",
    "deliver_by",
    "expedite",
    "risk_flagged_at",
    "risk_reason",
    "external_ref",
    "source",
    "updated_at",
    "customer__id",
    "customer__name",
    "customer__phone",
    "customer__email",
)


def customer_matches(q: str) -> Q:
    """Who the caller might be: by email, phone digits or name (or part of them)."""
    q = q.strip()
    if "@" in q:
        return Q(email__icontains=q)
    digits = phone_digits(q)
    if len(digits) >= 4 and len(digits) >= len(re.sub(r"[\s()+.\-]", "", q)):
        return Q(phone_digits__contains=digits)
    return Q(name__icontains=q) | Q(email__icontains=q)


def order_number_q(q: str) -> Q:
    """The order with this number: "FD0000123", "fd-0000123" or just "123"."""
    q = q.strip()
    if not ORDER_NUMBER_RE.match(q):
        return Q(pk__in=[])
    condition = Q(number=q.replace("-", "").upper())
    if q.isdigit():
        condition |= Q(number=f"{settings.FD_ORDER_NUMBER_PREFIX}{int(q):07d}")
    return condition


#: A search resolves its customers first; past this many it falls back to a subquery.
MAX_CUSTOMER_MATCHES = 200


def customer_ids_matching(q: str):
    """Ids of the customers ``q`` may mean, as a short list (each lookup uses its own index).

    A literal list lets PostgreSQL combine the index on orders.customer with the others; an
    ``IN (subquery)`` OR-ed with other conditions made it scan every order. A very broad
    search (more than MAX_CUSTOMER_MATCHES customers) stays complete through a subquery.
    """
    matching = Customer.objects.filter(customer_matches(q)).order_by().values_list("id", flat=True)
    ids = list(matching[: MAX_CUSTOMER_MATCHES + 1])
    return matching if len(ids) > MAX_CUSTOMER_MATCHES else ids


def orders_named(q: str) -> list[tuple[int, int]]:
    """(id, customer id) of the orders ``q`` names exactly: number or external reference."""
    q = q.strip()
    return list(Order.objects.filter(Q(external_ref=q) | order_number_q(q)).values_list("id", "customer_id")[:50])


def order_search_q(q: str) -> Q:
    """Order number, external reference, or anything about its customer."""
    named = [order_id for order_id, _customer in orders_named(q)]
    return Q(id__in=named) | Q(customer_id__in=customer_ids_matching(q))


def order_exact_matches(*, actor: Actor, q: str) -> QuerySet[Order]:
    """Orders named exactly by ``q``: their number or an external reference."""
    require(as_actor(actor), perms.VIEW)
    return Order.objects.filter(Q(external_ref=q.strip()) | order_number_q(q)).only("id", "number")


def order_list(*, actor: Actor) -> QuerySet[Order]:
    """Orders for list pages: the columns the list shows and the customer, nothing else."""
    require(as_actor(actor), perms.VIEW)
    return Order.objects.select_related("customer").only(*LIST_COLUMNS)


def order_promise_q(kind: str) -> Q:
    today = clock.today()
    if kind == "late":
        return late_q(today)
    if kind == "at_risk":
        return at_risk_q(today, settings.FD_AT_RISK_DAYS)
    if kind == "late_or_at_risk":
        return late_q(today) | at_risk_q(today, settings.FD_AT_RISK_DAYS)
    return Q()


def order_detail(*, actor: Actor, number: str) -> Order:
    """One order with everything its page shows, in a fixed number of queries."""
    require(as_actor(actor), perms.VIEW)
    return (
        Order.objects.select_related("customer")
        .prefetch_related(
            "lines",
            "payments",
            "shipments",
            Prefetch("handoffs", queryset=_handoffs()),
            Prefetch("events", queryset=OrderEvent.objects.select_related("actor_user").order_by("-created_at", "-id")),
        )
        .get(number=number)
    )


def _handoffs():
    return Handoff.objects.select_related("owner").order_by("state", "due_date", "id")


def customer_list(*, actor: Actor, q: str = "", named: list[tuple[int, int]] | None = None) -> QuerySet[Customer]:
    """Customers, or those ``q`` may mean: by name, email, phone, or an order they placed.

    ``named``: ``orders_named(q)`` when the caller has it already.
    """
    require(as_actor(actor), perms.CUSTOMER_VIEW)
    qs = Customer.objects.all()
    if q.strip():
        condition = customer_matches(q)
        owners = [customer_id for _order, customer_id in (orders_named(q) if named is None else named)]
        if owners:
            condition |= Q(id__in=owners)
        qs = qs.filter(condition)
    return qs


def customer_detail(*, actor: Actor, pk: int) -> Customer:
    require(as_actor(actor), perms.CUSTOMER_VIEW)
    return Customer.objects.prefetch_related("external_refs").get(pk=pk)


def customer_orders(*, actor: Actor, customer: Customer) -> QuerySet[Order]:
    return order_list(actor=actor).filter(customer=customer)
