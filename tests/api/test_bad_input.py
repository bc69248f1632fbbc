"""Bad input gets the error shape, never a 500."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from orders.models import Order

from .conftest import assert_problem, line, make_order, order_body

BIG = "x" * 10_000


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"customer": "abc", "lines": [line()]}, "customer"),
        ({"customer": 1, "lines": "not a list"}, "lines"),
        ({"customer": 1, "lines": [line(quantity="many")]}, "lines.0.quantity"),
        ({"customer": 1, "lines": [line(quantity=-1)]}, "lines.0.quantity"),
        ({"customer": 1, "lines": [line(quantity=0)]}, "lines.0.quantity"),
        ({"customer": 1, "lines": [line(quantity=10**12)]}, "lines.0.quantity"),
        ({"customer": 1, "lines": [line(unit_price="-1.00")]}, "lines.0.unit_price"),
        ({"customer": 1, "lines": [line(unit_price="1e400")]}, "lines.0.unit_price"),
        ({"customer": 1, "lines": [line(unit_price="NaN")]}, "lines.0.unit_price"),
        ({"customer": 1, "lines": [line(sku=BIG)]}, "lines.0.sku"),
        ({"customer": 1, "lines": [line()], "ship_name": BIG}, "ship_name"),
        ({"customer": 1, "lines": [line()], "bogus": 1}, "bogus"),
        ({"customer": 1, "lines": [line(colour="red")]}, "lines.0.colour"),
        ({"customer": 1, "lines": [line()], "currency": "EURO"}, "currency"),
        ({"customer": 1, "lines": [line()], "placed_at": "yesterday"}, "placed_at"),
        ({"customer": 1, "lines": [line()], "ship_by": "2026-05-02", "deliver_by": "2026-05-01"}, "deliver_by"),
        ({"customer": 1, "lines": [line()], "customer_ref": {"name": "x"}}, "customer_ref.source"),
        ({"customer": 1, "lines": [None]}, "lines.0"),
        ({"customer": 1, "lines": [line()] * 501}, "lines"),
    ],
)
def test_bad_order_bodies_are_400(db, rw, body, field):
    errors = assert_problem(rw.post("/api/v1/orders/", body, format="json"), 400).get("errors", {})
    assert any(key == field or key.startswith(field) for key in errors), errors
    assert Order.objects.count() == 0


@pytest.mark.parametrize("raw", ["{", "[]", "null", '"a string"', "42", "\xff", '{"lines": [}'])
def test_malformed_or_non_object_json_is_400(db, rw, raw):
    response = rw.generic("POST", "/api/v1/orders/", raw.encode("utf-8", "surrogateescape"), "application/json")
    assert_problem(response, 400)


@pytest.mark.parametrize("url", ["/api/v1/orders/", "/api/v1/customers/", "/api/v1/orders/bulk/"])
def test_malformed_json_everywhere_is_400(db, rw, url):
    assert_problem(rw.generic("POST", url, b"{nope", "application/json"), 400)


def test_by_ref_with_list_body_is_400(db, rw):
    assert_problem(rw.put("/api/v1/orders/by-ref/s/r/", [1, 2], format="json"), 400)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_wrong_content_type_is_415(customer, rw, content_type):
    response = rw.generic("POST", "/api/v1/orders/", b"customer=1", content_type)
    assert_problem(response, 415)


def test_body_over_limit_is_413(customer, rw):
    body = json.dumps(order_body(customer.pk, ship_name="y" * 150))
    with override_settings(FD_API_MAX_BODY_BYTES=100):
        assert_problem(rw.generic("POST", "/api/v1/orders/", body, "application/json"), 413)
    assert Order.objects.count() == 0


def test_bad_content_length_is_400(customer, rw):
    response = rw.generic("POST", "/api/v1/orders/", b"{}", "application/json", CONTENT_LENGTH="abc")
    assert_problem(response, 400)


def test_transition_not_allowed_is_409_with_allowed(db, rw):
    order = make_order()
    body = assert_problem(rw.post(f"/api/v1/orders/{order.pk}/deliver/", {}, format="json"), 409)
    assert "allowed" in body and isinstance(body["allowed"], list)
    assert "confirm" in json.dumps(body["allowed"]) or body["allowed"]


def test_action_unknown_field_is_400(db, rw):
    order = make_order(status="packed")
    body = {"carrier": "DHL", "tracking_number": "T", "extra": 1}
    assert_problem(rw.post(f"/api/v1/orders/{order.pk}/ship/", body, format="json"), 400)


def test_action_on_missing_order_is_404(db, rw):
    assert_problem(rw.post("/api/v1/orders/999999/confirm/", {}, format="json"), 404)


def test_ship_by_after_deliver_by_on_patch_is_400(db, rw):
    order = make_order()
    body = {"ship_by": "2026-05-10", "deliver_by": "2026-05-01"}
    assert_problem(rw.patch(f"/api/v1/orders/{order.pk}/", body, format="json"), 400)


def test_patch_only_deliver_by_before_existing_ship_by_is_400(db, rw):
    import datetime as dt

    order = make_order(ship_by=dt.date(2026, 6, 10))
    response = rw.patch(f"/api/v1/orders/{order.pk}/", {"deliver_by": "2026-06-01"}, format="json")
    assert_problem(response, 400)


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": BIG},
        {"name": "ok", "email": "not-an-email"},
        {"name": "ok", "preferred_language": "xx"},
        {"name": "ok", "unknown": 1},
        {"name": "ok", "external_refs": [{"source": "s"}]},
        {"name": "ok", "external_refs": [{"source": "s", "external_ref": "r", "x": 1}]},
        {"name": 5, "notes": ["a"]},
    ],
)
def test_bad_customer_bodies_are_400(db, rw, body):
    assert_problem(rw.post("/api/v1/customers/", body, format="json"), 400)


def test_method_not_allowed_is_problem(db, rw):
    assert_problem(rw.delete("/api/v1/orders/"), 405)


def test_huge_query_string_is_not_500(db, rw):
    response = rw.get("/api/v1/orders/", {"q": BIG})
    assert response.status_code in (200, 400)
