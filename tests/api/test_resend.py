"""Sync clients re-send whole orders: naming the same customer again is not a change."""

from __future__ import annotations

from orders.models import Order

from .conftest import line


def _full(ref: str, customer_ref: str, quantity: int = 1) -> dict:
    return {
        "source": "shop",
        "external_ref": ref,
        "customer_ref": {"source": "shop", "external_ref": customer_ref, "name": "Ann Api"},
        "lines": [line(quantity=quantity)],
    }


def test_bulk_resend_of_the_same_order_with_its_customer_ref_updates_it(rw):
    first = rw.post("/api/v1/orders/bulk/", {"orders": [_full("R-1", "C-1")]}, format="json")
    assert first.json()["results"][0]["result"] == "created"
    again = rw.post("/api/v1/orders/bulk/", {"orders": [_full("R-1", "C-1", quantity=3)]}, format="json")
    item = again.json()["results"][0]
    assert item["result"] == "updated", item
    order = Order.objects.get(source="shop", external_ref="R-1")
    assert [li.quantity for li in order.lines.all()] == [3]


def test_naming_another_customer_on_update_is_refused_and_changes_nothing(rw):
    rw.post("/api/v1/orders/bulk/", {"orders": [_full("R-2", "C-1")]}, format="json")
    response = rw.put("/api/v1/orders/by-ref/shop/R-2/", _full("R-2", "C-OTHER", quantity=5), format="json")
    assert response.status_code == 400
    assert "customer" in response.json()["errors"]
    order = Order.objects.get(source="shop", external_ref="R-2")
    assert [li.quantity for li in order.lines.all()] == [1]


def test_a_failed_bulk_item_does_not_leave_a_ghost_customer_for_the_next(rw):
    # Valid in shape, so its new customer is created; then the service refuses the total.
    bad = _full("R-3", "C-NEW")
    bad["lines"] = [line(quantity=1_000_000, unit_price="9999999999.99")]
    good = _full("R-4", "C-NEW")
    response = rw.post("/api/v1/orders/bulk/", {"orders": [bad, good]}, format="json")
    assert response.status_code == 200, response.content[:300]
    results = response.json()["results"]
    assert [r["result"] for r in results] == ["error", "created"], results
    order = Order.objects.get(source="shop", external_ref="R-4")
    assert order.customer.external_refs.get().external_ref == "C-NEW"
