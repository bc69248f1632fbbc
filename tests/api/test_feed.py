"""The change feed: every order exactly once, in change order; changes come back after the cursor."""

from __future__ import annotations

import datetime as dt

import pytest

from fulfillment.actors import Actor
from orders import services
from orders.models import Order
from tests.factories import CustomerFactory

from .conftest import assert_problem, make_order

FEED = "/api/v1/orders/feed/"


def read_all(client, cursor=None, limit=2) -> tuple[list[dict], str]:
    rows, polls = [], 0
    while True:
        params = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        response = client.get(FEED, params)
        assert response.status_code == 200, response.content
        body = response.json()
        rows += body["results"]
        cursor = body["next_cursor"]
        polls += 1
        assert polls < 100
        if not body["has_more"]:
            return rows, cursor


@pytest.fixture
def five(transactional_db):
    """Committed orders: on PostgreSQL the feed serves only rows below the oldest open
    transaction, so rows written inside a test's wrapping transaction would never show."""
    customer = CustomerFactory()
    return [make_order(customer) for _ in range(5)]


def test_walk_returns_every_order_once_in_change_order(five, rw):
    rows, _cursor = read_all(rw)
    assert [r["id"] for r in rows] == [o.pk for o in five]
    seqs = list(Order.objects.order_by("change_seq", "id").values_list("id", flat=True))
    assert [r["id"] for r in rows] == seqs


def test_nothing_new_returns_empty_page_and_same_cursor(five, rw):
    _rows, cursor = read_all(rw)
    body = rw.get(FEED, {"cursor": cursor}).json()
    assert body == {"results": [], "next_cursor": cursor, "has_more": False}


def test_updated_order_reappears_after_cursor(five, rw):
    _rows, cursor = read_all(rw)
    services.order_update_details(actor=Actor.system("t"), order=five[1], ship_name="Moved")
    rows, cursor2 = read_all(rw, cursor)
    assert [r["id"] for r in rows] == [five[1].pk]
    assert rows[0]["shipping_address"]["name"] == "Moved" or "Moved" in str(rows[0]["shipping_address"])
    assert read_all(rw, cursor2)[0] == []


def test_cancelled_order_stays_in_feed_as_cancelled(five, rw):
    _rows, cursor = read_all(rw)
    services.order_cancel(actor=Actor.system("t"), order=five[2], reason="gone")
    rows, _ = read_all(rw, cursor)
    assert [(r["id"], r["status"]) for r in rows] == [(five[2].pk, "cancelled")]
    everything, _ = read_all(rw)
    assert {r["id"]: r["status"] for r in everything}[five[2].pk] == "cancelled"


def test_updated_after_for_first_sync(five, rw):
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for n, order in enumerate(five):
        Order.objects.filter(pk=order.pk).update(updated_at=base + dt.timedelta(days=n))
    response = rw.get(FEED, {"updated_after": (base + dt.timedelta(days=2, hours=1)).isoformat(), "limit": 10})
    assert [r["id"] for r in response.json()["results"]] == [five[3].pk, five[4].pk]
    # the cursor given out continues from there
    cursor = response.json()["next_cursor"]
    services.order_update_details(actor=Actor.system("t"), order=five[0], ship_name="Again")
    assert [r["id"] for r in read_all(rw, cursor)[0]] == [five[0].pk]


def test_line_change_moves_order_to_feed_end(five, rw):
    _rows, cursor = read_all(rw)
    services.order_confirm(actor=Actor.system("t"), order=five[0])
    assert [r["id"] for r in read_all(rw, cursor)[0]] == [five[0].pk]


@pytest.mark.parametrize("cursor", ["garbage", "!!!", "YWJj", "x" * 200, "LTE6eA", "Ojo", "MToxOjE"])
def test_garbage_cursor_is_400(five, rw, cursor):
    assert_problem(rw.get(FEED, {"cursor": cursor}), 400)


@pytest.mark.parametrize("limit", ["0", "-1", "1001", "ten"])
def test_bad_limit_is_400(five, rw, limit):
    assert_problem(rw.get(FEED, {"limit": limit}), 400)


def test_bad_updated_after_is_400(five, rw):
    assert_problem(rw.get(FEED, {"updated_after": "soon"}), 400)


def test_updated_after_with_nothing_new_gives_a_cursor_at_the_end(five, rw):
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    body = rw.get(FEED, {"updated_after": later}).json()
    assert body["results"] == []
    assert read_all(rw, body["next_cursor"])[0] == []
