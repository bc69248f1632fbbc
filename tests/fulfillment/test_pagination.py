"""Keyset pagination: every row exactly once, newest first, ties broken by id; back and forth."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from fulfillment import clock
from fulfillment.pagination import keyset_page
from orders.models import Customer, Order

from ..factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

BASE = dt.datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)


@pytest.fixture
def orders():
    """125 orders; four at a time share the same placed_at (microseconds included)."""
    customer = CustomerFactory()
    for i in range(125):
        OrderFactory(customer=customer, placed_at=BASE - dt.timedelta(minutes=i // 4))
    return list(Order.objects.all())


@pytest.fixture
def few_orders():
    """Enough for a first page and a second one, with ties."""
    customer = CustomerFactory()
    for i in range(12):
        OrderFactory(customer=customer, placed_at=BASE - dt.timedelta(minutes=i // 4))
    return list(Order.objects.all())


def newest_first(rows):
    return [row.pk for row in sorted(rows, key=lambda row: (row.placed_at, row.pk), reverse=True)]


#: A walk longer than this is a pagination bug going round in circles: fail, don't hang.
MAX_PAGES = 200


def _walk(size, direction="next", start=None):
    pages, cursor = [], start
    for _ in range(MAX_PAGES):
        page = keyset_page(Order.objects.all(), cursor=cursor, size=size, key="placed_at")
        pages.append(page)
        cursor = page.next_cursor if direction == "next" else page.prev_cursor
        if cursor is None:
            return pages
    pytest.fail(f"no last page after {MAX_PAGES} pages")


@pytest.mark.parametrize("size", [1, 4, 7, 10, 125, 200])
def test_walking_next_visits_every_order_once_newest_first(orders, size):
    pages = _walk(size)
    seen = [pk for page in pages for pk in (row.pk for row in page.items)]
    assert seen == newest_first(orders)
    assert len(pages) == -(-125 // size)
    assert all(len(page.items) == size for page in pages[:-1])
    assert pages[0].prev_cursor is None
    assert all(page.prev_cursor for page in pages[1:])


@pytest.mark.parametrize("size", [4, 7, 10])
def test_walking_prev_from_the_last_page_goes_back_through_the_same_pages(orders, size):
    forward = _walk(size)
    last = forward[-1]
    backward = [last, *_walk(size, "prev", start=last.prev_cursor)]
    assert [[r.pk for r in p.items] for p in backward] == [[r.pk for r in p.items] for p in reversed(forward)]
    assert backward[-1].prev_cursor is None
    assert all(page.next_cursor for page in backward[1:])


def _cursor(payload) -> str:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


GARBAGE = [
    "garbage",
    "!!!",
    "a",
    "=====",
    _cursor(b"not json"),
    _cursor(b"\xff\xfe"),
    _cursor({"direction": "n"}),
    _cursor([1, 2]),
    _cursor(["x", BASE.isoformat(), 1]),
    _cursor(["n", "yesterday", 1]),
    _cursor(["n", "2031-05-06T07:08:09", 1]),  # naive
    _cursor(["n", BASE.isoformat(), "1"]),
    _cursor(["n", 12345, 1]),
    _cursor(["n", "9999-12-31T23:59:59-14:00", 1]),  # past the end of time in UTC
    _cursor(["p", "0001-01-01T00:00:00+14:00", 1]),  # before the start of time in UTC
]


@pytest.mark.parametrize("cursor", GARBAGE)
def test_a_garbage_cursor_gives_the_first_page(few_orders, cursor):
    first = keyset_page(Order.objects.all(), cursor=None, size=10, key="placed_at")
    page = keyset_page(Order.objects.all(), cursor=cursor, size=10, key="placed_at")
    assert [r.pk for r in page.items] == [r.pk for r in first.items]
    assert (page.prev_cursor, page.next_cursor) == (None, first.next_cursor)


def test_the_order_list_page_walks_the_same_way_with_a_small_page_size(rep, client, orders, settings):
    settings.FD_PAGE_SIZE = 9
    client.force_login(rep)
    seen, cursor, pages = [], None, 0
    while pages < MAX_PAGES:
        response = client.get("/orders/", {"cursor": cursor} if cursor else {})
        assert response.status_code == 200
        page = response.context["page"]
        seen += [row.pk for row in page.items]
        pages += 1
        assert ('rel="next"' in response.content.decode()) == bool(page.next_cursor)
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == newest_first(orders)
    assert pages == 14

    back = client.get("/orders/", {"cursor": response.context["page"].prev_cursor})
    assert [row.pk for row in back.context["page"].items] == newest_first(orders)[-17:-8]


@pytest.mark.parametrize("cursor", GARBAGE[:3] + GARBAGE[-2:])
def test_the_order_list_page_shows_the_first_page_for_a_garbage_cursor(rep, client, few_orders, settings, cursor):
    settings.FD_PAGE_SIZE = 9
    client.force_login(rep)
    response = client.get("/orders/", {"cursor": cursor})
    assert response.status_code == 200
    assert [row.pk for row in response.context["page"].items] == newest_first(few_orders)[:9]


def test_customers_created_in_the_same_instant_are_paged_by_id(rep, client, settings):
    settings.FD_PAGE_SIZE = 5
    with clock.frozen(BASE):
        CustomerFactory.create_batch(23)
    client.force_login(rep)
    seen, cursor = [], None
    for _ in range(MAX_PAGES):
        page = client.get("/customers/", {"cursor": cursor} if cursor else {}).context["page"]
        seen += [c.pk for c in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == sorted(Customer.objects.values_list("pk", flat=True), reverse=True)
