"""Who is calling? Phone in any format, partial digits, email, name; orders by number or reference."""

from __future__ import annotations

import pytest

from orders import selectors
from orders.models import Order

from ..factories import CustomerFactory, OrderFactory


@pytest.fixture
def people(db):
    rahim = CustomerFactory(name="Rahim Hossain", email="rahim.h@example.com", phone="+1 555 0000012")
    maria = CustomerFactory(name="Maria Reyes", email="maria@shop.example.org", phone="+63 917 555 4242")
    return {"rahim": rahim, "maria": maria}


@pytest.fixture
def orders(people):
    return {
        "rahim": OrderFactory(customer=people["rahim"], source="shop", external_ref="SHOP-77812"),
        "maria": OrderFactory(customer=people["maria"]),
    }


CUSTOMER_QUERIES = [
    ("+1 (555) 000-0012", {"rahim"}),
    ("+1 555 0000012", {"rahim"}),
    ("15550000012", {"rahim"}),
    ("(555) 000-0012", {"rahim"}),
    ("1-555-000-0012", {"rahim"}),
    ("0012", {"rahim"}),
    ("4242", {"maria"}),
    ("917 555", {"maria"}),
    ("rahim.h@example.com", {"rahim"}),
    ("MARIA@shop.example.org", {"maria"}),
    ("@shop.example", {"maria"}),
    ("Reyes", {"maria"}),
    ("hossain", {"rahim"}),
    ("Rahim Hoss", {"rahim"}),
    ("example", {"rahim", "maria"}),
    ("Nobody", set()),
]


@pytest.mark.parametrize(("q", "expected"), CUSTOMER_QUERIES)
def test_customers_are_found_by_phone_email_or_name(rep, people, q, expected):
    found = set(selectors.customer_list(actor=rep, q=q).values_list("pk", flat=True))
    assert found == {people[name].pk for name in expected}


@pytest.mark.parametrize(("q", "expected"), CUSTOMER_QUERIES)
def test_the_customer_list_page_finds_the_same(rep_client, people, q, expected):
    response = rep_client.get("/customers/", {"q": q})
    assert response.status_code == 200
    assert {c.pk for c in response.context["page"].items} == {people[name].pk for name in expected}


def _order_queries(orders):
    rahim = orders["rahim"]
    return [
        (rahim.number, {"rahim"}),
        (rahim.number.lower(), {"rahim"}),
        (f"{rahim.number[:2]}-{rahim.number[2:]}", {"rahim"}),
        (str(rahim.pk), {"rahim"}),
        ("SHOP-77812", {"rahim"}),
        ("+1 (555) 000-0012", {"rahim"}),
        ("maria@shop.example.org", {"maria"}),
        ("Reyes", {"maria"}),
        ("SHOP-0", set()),
    ]


def test_orders_are_found_by_number_with_or_without_prefix_reference_or_customer(rep, orders):
    for q, expected in _order_queries(orders):
        found = set(Order.objects.filter(selectors.order_search_q(q)).values_list("pk", flat=True))
        assert found == {orders[name].pk for name in expected}, q


def test_the_order_list_search_finds_the_same(rep_client, orders):
    for q, expected in _order_queries(orders):
        response = rep_client.get("/orders/", {"q": q})
        assert response.status_code == 200, q
        assert {o.pk for o in response.context["page"].items} == {orders[name].pk for name in expected}, q


@pytest.mark.parametrize("q", ["number", "number without prefix", "SHOP-77812"])
def test_the_header_search_with_go_jumps_to_a_single_matching_order(rep_client, orders, q):
    order = orders["rahim"]
    q = {"number": order.number, "number without prefix": str(order.pk)}.get(q, q)
    response = rep_client.get("/search/", {"q": q, "go": "1"})
    assert response.status_code == 302
    assert response.url == f"/orders/{order.number}/"


def test_the_header_search_with_go_jumps_for_a_reference_that_is_not_number_shaped(rep_client, people):
    order = OrderFactory(customer=people["maria"], source="web", external_ref="WEB/77812-A")
    response = rep_client.get("/search/", {"q": "WEB/77812-A", "go": "1"})
    assert response.status_code == 302
    assert response.url == f"/orders/{order.number}/"


def test_without_go_the_header_search_shows_the_results(rep_client, orders):
    order = orders["rahim"]
    response = rep_client.get("/search/", {"q": order.number})
    assert response.status_code == 200
    assert [o.pk for o in response.context["orders"]] == [order.pk]
    assert f'href="/orders/{order.number}/"' in response.content.decode()


def test_the_header_search_by_phone_shows_the_customer_and_their_orders(rep_client, orders, people):
    OrderFactory(customer=people["rahim"])
    response = rep_client.get("/search/", {"q": "+1 (555) 000-0012", "go": "1"})
    assert response.status_code == 200  # a customer matched: no jump
    assert [c.pk for c in response.context["customers"]] == [people["rahim"].pk]
    assert {o.customer_id for o in response.context["orders"]} == {people["rahim"].pk}
    assert len(response.context["orders"]) == 2


def test_the_header_search_with_several_orders_does_not_jump(rep_client, people):
    OrderFactory(customer=people["maria"], source="shop", external_ref="DUP")
    OrderFactory(customer=people["rahim"], source="erp", external_ref="DUP")
    response = rep_client.get("/search/", {"q": "DUP", "go": "1"})
    assert response.status_code == 200
    assert len(response.context["orders"]) == 2


def test_an_empty_search_shows_nothing(rep_client, orders):
    response = rep_client.get("/search/", {"q": "   "})
    assert response.status_code == 200
    assert (response.context["customers"], response.context["orders"]) == ([], [])
