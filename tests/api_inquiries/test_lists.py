"""Every list filter, cursor pagination under concurrent writes, and query counts."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from inquiries import services
from inquiries.models import Inquiry
from tests.factories import CustomerFactory

from .conftest import SYSTEM, URL, assert_problem, make_inquiry, make_order, url

T0 = timezone.make_aware(dt.datetime(2026, 3, 1, 12, 0))


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content[:300]
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def three(db, rep):
    ann = CustomerFactory(name="Ann Zebrafield", email="ann@example.com")
    bob = CustomerFactory(name="Bob Other")
    order = make_order(bob)
    a = make_inquiry(ann, subject="Parcel late", channel="email", category="delivery", priority=3, tags=["vip"])
    b = make_inquiry(bob, subject="Double charge", channel="phone", category="billing", orders=[order])
    c = make_inquiry(bob, subject="Broken lid", channel="web", category="product", priority=1, body="The lid cracked")
    services.inquiry_set_status(actor=SYSTEM, inquiry=b, status="waiting_customer")
    services.inquiry_set_status(actor=SYSTEM, inquiry=c, status="resolved")
    services.inquiry_claim(actor=rep, inquiry=a)
    Inquiry.objects.filter(pk=c.pk).update(tier=2)
    for n, inquiry in enumerate((a, b, c)):
        at = T0 + dt.timedelta(days=5 * n)
        Inquiry.objects.filter(pk=inquiry.pk).update(created_at=at, updated_at=at)
    return {"a": a.pk, "b": b.pk, "c": c.pk, "ann": ann, "bob": bob, "order": order, "rep": rep}


def test_every_filter(three, rw):
    a, b, c = three["a"], three["b"], three["c"]
    get = lambda params: ids(rw.get(URL, params))  # noqa: E731
    assert get({}) == {a, b, c}
    assert get({"status": "new"}) == {a}
    assert ids(rw.get(URL + "?status=new&status=resolved")) == {a, c}
    assert get({"channel": "phone"}) == {b}
    assert get({"category": "product"}) == {c}
    assert get({"priority": 3}) == {a}
    assert get({"tier": 2}) == {c}
    assert get({"customer": three["bob"].pk}) == {b, c}
    assert get({"assignee": three["rep"].pk}) == {a}
    assert get({"unassigned": "true"}) == {b, c}
    assert get({"order": three["order"].number}) == {b}
    assert get({"tag": "VIP"}) == {a}
    assert get({"created_after": (T0 + dt.timedelta(days=1)).isoformat()}) == {b, c}
    assert get({"created_before": (T0 + dt.timedelta(days=6)).isoformat()}) == {a, b}
    assert get({"updated_after": (T0 + dt.timedelta(days=5)).isoformat()}) == {c}
    assert get({"reference": f"INQ-{b:06d}"}) == {b}
    assert get({"reference": str(c)}) == {c}
    assert get({"q": "Zebrafield"}) == {a}
    assert get({"q": "lid"}) == {c}
    assert get({"status": "new", "channel": "web"}) == set()


def test_q_does_not_search_notes_for_api_keys(three, rw, staff):
    inquiry = Inquiry.objects.get(pk=three["b"])
    services.note_add(actor=SYSTEM, inquiry=inquiry, body="Suspected fraudster")
    assert ids(rw.get(URL, {"q": "fraudster"})) == set()
    assert ids(staff.get(URL, {"q": "fraudster"})) == {inquiry.pk}


@pytest.mark.parametrize(
    "params",
    [
        {"status": "nonsense"},
        {"status": ""},
        {"channel": "pigeon"},
        {"priority": 9},
        {"priority": "high"},
        {"tier": "x"},
        {"customer": "abc"},
        {"assignee": "1.5.2"},
        {"unassigned": "maybe"},
        {"created_after": "yesterday"},
        {"updated_after": "2026-13-01T00:00:00Z"},
        {"reference": "XYZ"},
        {"order": "x" * 31},
        {"q": "x" * 201},
    ],
)
def test_bad_filters_are_400(three, rw, params):
    assert_problem(rw.get(URL, params), 400)


def test_bad_cursor_is_404(three, rw):
    assert_problem(rw.get(URL, {"cursor": "garbage"}), 404)


def walk(client, path, params) -> list[int]:
    seen, response = [], client.get(path, params)
    for _page in range(50):
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [row["id"] for row in body["results"]]
        if not body["next"]:
            return seen
        query = parse_qs(urlparse(body["next"]).query)
        response = client.get(path, {k: v[0] for k, v in query.items()})
    raise AssertionError("too many pages")


def test_cursor_walks_every_row_once_ordered_by_updated_at(db, rw):
    made = [make_inquiry().pk for _ in range(7)]
    seen = walk(rw, URL, {"page_size": 2})
    assert seen == made  # created one after another: updated_at ascending
    assert len(seen) == len(set(seen))


def test_cursor_does_not_skip_a_row_changed_while_paging(db, rw):
    made = [make_inquiry() for _ in range(6)]
    first = rw.get(URL, {"page_size": 2}).json()
    assert [row["id"] for row in first["results"]] == [made[0].pk, made[1].pk]
    # While the client pages, an early inquiry changes: it moves to the end and is seen again.
    services.inquiry_update(actor=SYSTEM, inquiry=made[0], priority=4)
    query = parse_qs(urlparse(first["next"]).query)
    rest = walk(rw, URL, {k: v[0] for k, v in query.items()})
    assert rest == [m.pk for m in made[2:]] + [made[0].pk]


# --- query counts: the same for a page of 2 and a page of 20 ----------------------------

LIST_QUERIES = 4  # key, inquiries + customer + assignee, tags, linked orders
MESSAGES_QUERIES = 4  # key, the inquiry, messages, attachments
DETAIL_QUERIES = 4  # key, the inquiry, tags, linked orders


@pytest.fixture
def many(db, rep):
    customer = CustomerFactory()
    orders = [make_order(customer) for _ in range(2)]
    inquiries = [make_inquiry(customer, orders=orders, tags=["a", "b"]) for _ in range(22)]
    for n, inquiry in enumerate(inquiries):
        if n % 2:
            services.inquiry_claim(actor=rep, inquiry=inquiry)
    for n in range(21):
        services.message_receive(actor=SYSTEM, inquiry=inquiries[0], body=f"m{n}", channel="web")
        if n % 3 == 0:
            services.note_add(actor=SYSTEM, inquiry=inquiries[0], body=f"n{n}")
    return inquiries


def count(client, path, params, django_assert_num_queries, expected):
    client.get(path, params)  # warm-up: last_used_at is written once
    with django_assert_num_queries(expected):
        response = client.get(path, params)
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("size", [2, 20])
def test_list_query_count(many, rw, size, django_assert_num_queries):
    body = count(rw, URL, {"page_size": size}, django_assert_num_queries, LIST_QUERIES)
    assert len(body["results"]) == size
    assert all(len(row["orders"]) == 2 and row["tags"] == ["a", "b"] for row in body["results"])


@pytest.mark.parametrize("size", [2, 20])
def test_list_query_count_filtered(many, rw, size, django_assert_num_queries):
    params = {"page_size": size, "status": ["new", "open"], "tag": "a", "order": many[0].orders.first().number}
    body = count(rw, URL, params, django_assert_num_queries, LIST_QUERIES)
    assert len(body["results"]) == size


@pytest.mark.parametrize("size", [2, 20])
def test_messages_query_count(many, rw, size, django_assert_num_queries):
    body = count(rw, url(many[0], "messages/"), {"page_size": size}, django_assert_num_queries, MESSAGES_QUERIES)
    assert len(body["results"]) == size


def test_detail_query_count(many, rw, django_assert_num_queries):
    count(rw, url(many[0]), {}, django_assert_num_queries, DETAIL_QUERIES)
