"""List filters, cursor pagination and query counts."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from fulfillment.actors import Actor
from orders import services
from orders.models import Customer, Order
from tests.factories import CustomerFactory

from .conftest import assert_problem, make_order

T0 = timezone.make_aware(dt.datetime(2026, 3, 1, 12, 0))


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content[:300]
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def orders(db):
    ann = CustomerFactory(name="Ann Zebrafield")
    bob = CustomerFactory(name="Bob Other")
    a = make_order(ann, source="shop", external_ref="A-1", placed_at=T0)
    b = make_order(bob, source="erp", external_ref="B-1", placed_at=T0 + dt.timedelta(days=5), status="confirmed")
    c = make_order(bob, placed_at=T0 + dt.timedelta(days=10), status="cancelled")
    services.order_request_expedite(actor=Actor.system("t"), order=b, reason="VIP", requested_by="boss")
    Order.objects.filter(pk=a.pk).update(updated_at=T0)
    Order.objects.filter(pk=b.pk).update(updated_at=T0 + dt.timedelta(days=5))
    Order.objects.filter(pk=c.pk).update(updated_at=T0 + dt.timedelta(days=10))
    return {"a": a, "b": b, "c": c, "ann": ann, "bob": bob}


def test_orders_filters(orders, rw):
    a, b, c = orders["a"].pk, orders["b"].pk, orders["c"].pk
    url = "/api/v1/orders/"
    assert ids(rw.get(url)) == {a, b, c}
    assert ids(rw.get(url, {"status": "placed"})) == {a}
    assert ids(rw.get(url + "?status=placed&status=cancelled")) == {a, c}
    assert ids(rw.get(url, {"customer": orders["bob"].pk})) == {b, c}
    assert ids(rw.get(url, {"expedite": "true"})) == {b}
    assert ids(rw.get(url, {"expedite": "false"})) == {a, c}
    assert ids(rw.get(url, {"placed_after": "2026-03-05"})) == {b, c}
    assert ids(rw.get(url, {"placed_before": "2026-03-06"})) == {a, b}
    assert ids(rw.get(url, {"placed_after": "2026-03-02", "placed_before": "2026-03-07"})) == {b}
    assert ids(rw.get(url, {"external_ref": "A-1"})) == {a}
    assert ids(rw.get(url, {"number": orders["c"].number})) == {c}
    assert ids(rw.get(url, {"source": "erp"})) == {b}
    assert ids(rw.get(url, {"updated_after": (T0 + dt.timedelta(days=1)).isoformat()})) == {b, c}
    assert ids(rw.get(url, {"q": "Zebrafield"})) == {a}
    assert ids(rw.get(url, {"q": orders["b"].number})) == {b}


@pytest.mark.parametrize(
    "params",
    [
        {"status": "nonsense"},
        {"placed_after": "yesterday"},
        {"updated_after": "not-a-date"},
        {"customer": "abc"},
        {"placed_after": "2026-03-07", "placed_before": "2026-03-01"},
        {"cursor": "garbage"},
    ],
)
def test_orders_bad_filters_are_400(orders, rw, params):
    response = rw.get("/api/v1/orders/", params)
    assert response.status_code in (400, 404), response.content
    assert_problem(response, response.status_code)


def test_customers_filters(db, rw):
    actor = Actor.system("t")
    ann = services.customer_create(actor=actor, name="Ann Zebrafield", email="ann@example.com")
    bob = services.customer_create(
        actor=actor, name="Bob Other", email="bob@example.com", external_refs=[("shop", "C-9"), ("erp", "X-1")]
    )
    Customer.objects.filter(pk=ann.pk).update(updated_at=T0)
    Customer.objects.filter(pk=bob.pk).update(updated_at=T0 + dt.timedelta(days=3))
    url = "/api/v1/customers/"
    assert ids(rw.get(url)) == {ann.pk, bob.pk}
    assert ids(rw.get(url, {"q": "Zebrafield"})) == {ann.pk}
    assert ids(rw.get(url, {"email": "BOB@example.com"})) == {bob.pk}
    assert ids(rw.get(url, {"source": "shop", "external_ref": "C-9"})) == {bob.pk}
    assert ids(rw.get(url, {"source": "shop"})) == {bob.pk}
    assert ids(rw.get(url, {"updated_after": (T0 + dt.timedelta(days=1)).isoformat()})) == {bob.pk}
    body = rw.get(url, {"email": "bob@example.com"}).json()["results"][0]
    assert len(body["external_refs"]) == 2


def test_customers_source_and_external_ref_match_the_same_ref(db, rw):
    services.customer_create(actor=Actor.system("t"), name="Bob", external_refs=[("shop", "C-9"), ("erp", "X-1")])
    assert ids(rw.get("/api/v1/customers/", {"source": "erp", "external_ref": "C-9"})) == set()


def walk(client, url, params) -> list[int]:
    seen, pages = [], 0
    response = client.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [row["id"] for row in body["results"]]
        pages += 1
        assert pages < 50
        if not body["next"]:
            return seen
        query = parse_qs(urlparse(body["next"]).query)
        response = client.get(url, {k: v[0] for k, v in query.items()})


def test_orders_cursor_pagination_walks_every_row_once(db, rw):
    customer = CustomerFactory()
    made = [make_order(customer).pk for _ in range(7)]
    seen = walk(rw, "/api/v1/orders/", {"page_size": 2})
    assert sorted(seen) == sorted(made)
    assert len(seen) == len(set(seen))


def test_customers_cursor_pagination_walks_every_row_once(db, rw):
    made = [CustomerFactory().pk for _ in range(5)]
    seen = walk(rw, "/api/v1/customers/", {"page_size": 2})
    assert sorted(seen) == sorted(made)
    assert len(seen) == len(set(seen))


def test_customers_with_many_refs_not_duplicated(db, rw):
    actor = Actor.system("t")
    services.customer_create(actor=actor, name="Many", external_refs=[("a", "1"), ("b", "2"), ("c", "3")])
    CustomerFactory()
    seen = walk(rw, "/api/v1/customers/", {"page_size": 1})
    assert len(seen) == len(set(seen)) == 2


# --- query counts: the same for a page of 2 and a page of 20 ----------------------------

ORDERS_LIST_QUERIES = 4  # key, orders+customer, lines, shipments
CUSTOMERS_LIST_QUERIES = 3  # key, customers, external refs
FEED_QUERIES = 4  # key, orders+customer, lines, shipments (SQLite; PostgreSQL below)


@pytest.fixture
def many(db):
    actor = Actor.system("t")
    for n in range(22):
        customer = services.customer_create(actor=actor, name=f"Cust {n}", external_refs=[("shop", f"C{n}")])
        order = make_order(customer, status="shipped" if n % 3 == 0 else "placed")
        if n % 2:
            services.order_request_expedite(actor=actor, order=order, reason="r", requested_by="x")


def count(client, url, params, django_assert_num_queries, expected):
    client.get(url, params)  # warm-up: last_used_at is written once
    with django_assert_num_queries(expected):
        response = client.get(url, params)
    assert response.status_code == 200


@pytest.mark.parametrize("size", [2, 20])
def test_orders_list_query_count(many, rw, size, django_assert_num_queries):
    count(rw, "/api/v1/orders/", {"page_size": size}, django_assert_num_queries, ORDERS_LIST_QUERIES)


@pytest.mark.parametrize("size", [2, 20])
def test_customers_list_query_count(many, rw, size, django_assert_num_queries):
    count(rw, "/api/v1/customers/", {"page_size": size}, django_assert_num_queries, CUSTOMERS_LIST_QUERIES)


@pytest.mark.parametrize("size", [2, 20])
def test_feed_query_count(transactional_db, many, rw, size, django_assert_num_queries):
    from django.db import connection

    # PostgreSQL: key, the horizon, and one query that builds the page's JSON (lines and shipments in it)
    expected = 3 if connection.vendor == "postgresql" else FEED_QUERIES
    count(rw, "/api/v1/orders/feed/", {"limit": size}, django_assert_num_queries, expected)
