"""List and detail pages make the same number of queries with 3 rows as with 30 (no N+1).

Each test measures the page with 3 and with 30 rows, asserts the counts are equal, then pins the
exact number. Every page starts with 2 queries: the session and the user.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from fulfillment import clock
from fulfillment.actors import Actor
from orders import services
from orders.enums import Department, OrderStatus
from orders.models import Order
from orders.services import LineInput

from ..factories import CustomerFactory, HandoffFactory, OrderFactory, UserFactory

SYSTEM = Actor.system("tests")
STATUSES = [OrderStatus.PLACED, OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.ON_HOLD]

ORDER_LIST_QUERIES = 3  # + orders joined with their customers
ORDER_SEARCH_QUERIES = 5  # + orders named by q, customers q may mean, then the page
CUSTOMER_LIST_QUERIES = 3  # + customers
CUSTOMER_DETAIL_QUERIES = 6  # + customer, its external refs, its orders page, its events
SEARCH_QUERIES = 5  # + orders named by q, customers, orders joined with their customers
ORDER_DETAIL_QUERIES = 9  # + order with customer, lines, payments, shipments, hand-offs with owners,
#                             events with their users, the hand-off form's owner choices


def _get(client, path, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params or {})
    assert response.status_code == 200, path
    return len(queries), response


def _orders(n, **kwargs):
    """Mixed statuses; every second order was due to ship yesterday (late unless shipped)."""
    yesterday = clock.today() - dt.timedelta(days=1)
    for i in range(n):
        OrderFactory(status=STATUSES[i % len(STATUSES)], ship_by=yesterday if i % 2 else None, **kwargs)


def test_the_order_list(rep_client, django_assert_num_queries):
    _orders(3)
    small, _ = _get(rep_client, "/orders/")
    _orders(27)
    large, _ = _get(rep_client, "/orders/")
    assert small == large

    with django_assert_num_queries(ORDER_LIST_QUERIES):
        response = rep_client.get("/orders/")
    assert len(response.context["page"].items) == 30


def test_the_filtered_order_list(rep_client, django_assert_num_queries):
    params = {"status": ["placed", "confirmed", "on_hold"], "promise": "late", "q": "example.com"}
    _orders(3)
    small, _ = _get(rep_client, "/orders/", params)
    _orders(27)
    large, _ = _get(rep_client, "/orders/", params)
    assert small == large

    with django_assert_num_queries(ORDER_SEARCH_QUERIES):
        response = rep_client.get("/orders/", params)
    late = Order.objects.filter(status__in=params["status"], ship_by__isnull=False)
    assert len(response.context["page"].items) == late.count() == 14


def test_the_customer_list(rep_client, django_assert_num_queries):
    CustomerFactory.create_batch(3)
    small, _ = _get(rep_client, "/customers/")
    CustomerFactory.create_batch(27)
    large, _ = _get(rep_client, "/customers/")
    assert small == large

    with django_assert_num_queries(CUSTOMER_LIST_QUERIES):
        response = rep_client.get("/customers/")
    assert len(response.context["page"].items) == 30


def _busy_customer(n):
    customer = CustomerFactory()
    _orders(n, customer=customer)
    for i in range(n):
        services.customer_update(actor=SYSTEM, customer=customer, notes=f"note {i}")
        services.customer_add_external_ref(
            actor=SYSTEM, customer=customer, source=f"src{i}", external_ref=f"{customer.pk}-{i}"
        )
    return customer


def test_the_customer_detail(rep_client, django_assert_num_queries):
    small, _ = _get(rep_client, f"/customers/{_busy_customer(3).pk}/")
    busy = _busy_customer(30)
    large, _ = _get(rep_client, f"/customers/{busy.pk}/")
    assert small == large

    with django_assert_num_queries(CUSTOMER_DETAIL_QUERIES):
        response = rep_client.get(f"/customers/{busy.pk}/")
    page = response.content.decode()
    assert len(response.context["page"].items) == 30
    assert page.count('<dd class="mono">') == 30  # every external reference


def test_the_search_page(rep_client, django_assert_num_queries):
    def make(n):
        for _ in range(n):
            OrderFactory(customer=CustomerFactory(name="Asha Sharma"))

    make(3)
    small, _ = _get(rep_client, "/search/", {"q": "Sharma"})
    make(27)
    large, _ = _get(rep_client, "/search/", {"q": "Sharma"})
    assert small == large

    with django_assert_num_queries(SEARCH_QUERIES):
        response = rep_client.get("/search/", {"q": "Sharma"})
    assert (len(response.context["customers"]), len(response.context["orders"])) == (20, 20)


def _busy_order(n):
    lines = [LineInput(sku=f"SKU-{i}", quantity=1, unit_price=Decimal("1.00")) for i in range(n)]
    order = OrderFactory(lines=lines, paid="1.00")
    for i in range(n):
        services.order_add_note(actor=Actor.for_user(UserFactory()), order=order, text=f"note {i}")
        owner = UserFactory(username=f"owner{n}-{i}")
        HandoffFactory(order=order, department=Department.WAREHOUSE, owner=owner, due_date=dt.date(2099, 1, 1))
    services.order_confirm(actor=SYSTEM, order=order)
    services.order_ship(actor=SYSTEM, order=order, carrier="DHL", tracking_number=f"T{n}")
    return order


def test_the_order_detail(rep_client, django_assert_num_queries):
    _orders(3)
    small, _ = _get(rep_client, f"/orders/{_busy_order(3).number}/")
    _orders(27)
    busy = _busy_order(30)
    large, _ = _get(rep_client, f"/orders/{busy.number}/")
    assert small == large

    with django_assert_num_queries(ORDER_DETAIL_QUERIES):
        response = rep_client.get(f"/orders/{busy.number}/")
    page = response.content.decode()
    assert page.count('<td class="mono">SKU-') == 30
    assert all(f"owner30-{i}<" in page for i in range(30))
    assert page.count('<div class="note">') == 30
