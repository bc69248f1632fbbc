"""Idempotency, ETag/If-Match and bulk upserts."""

from __future__ import annotations

import pytest

from fulfillment.models import IdempotencyRecord
from orders.models import Order, Shipment
from tests.factories import CustomerFactory

from .conftest import assert_problem, line, make_order, order_body

# --- Idempotency-Key ---------------------------------------------------------------------


def test_same_key_same_body_creates_one_order(customer, rw):
    body = order_body(customer.pk, external_ref="I-1", source="shop")
    first = rw.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = rw.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert second["ETag"] == first["ETag"] and second["Location"] == first["Location"]
    assert Order.objects.count() == 1


def test_same_key_other_body_is_422(customer, rw):
    rw.post("/api/v1/orders/", order_body(customer.pk), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    other = order_body(customer.pk, lines=[line(quantity=9)])
    assert_problem(rw.post("/api/v1/orders/", other, format="json", HTTP_IDEMPOTENCY_KEY="k-2"), 422)
    assert Order.objects.count() == 1


def test_different_keys_create_two_orders(customer, rw):
    body = order_body(customer.pk)
    assert rw.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="a").status_code == 201
    assert rw.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="b").status_code == 201
    assert Order.objects.count() == 2


def test_keys_are_per_client(customer, rw, make_key):
    from .conftest import key_client

    _c, key = make_key("read", "write")
    other = key_client(key)
    body = order_body(customer.pk)
    assert rw.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="same").status_code == 201
    response = other.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert response.status_code == 201 and not response.has_header("Idempotent-Replayed")
    assert Order.objects.count() == 2


@pytest.mark.parametrize("key", ["x" * 256, " ", "x" * 1000])
def test_bad_key_is_400(customer, rw, key):
    assert_problem(rw.post("/api/v1/orders/", order_body(customer.pk), format="json", HTTP_IDEMPOTENCY_KEY=key), 400)
    assert Order.objects.count() == 0


def test_key_of_255_is_fine(customer, rw):
    response = rw.post("/api/v1/orders/", order_body(customer.pk), format="json", HTTP_IDEMPOTENCY_KEY="x" * 255)
    assert response.status_code == 201


def test_failed_request_is_not_stored_and_retry_runs(customer, rw):
    body = order_body(999999)  # passes the serializer, fails in the handler
    first = rw.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="f-1")
    assert_problem(first, 400)
    assert not IdempotencyRecord.objects.exists()
    retry = rw.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="f-1")
    assert_problem(retry, 400)
    assert not retry.has_header("Idempotent-Replayed")


def test_invalid_body_with_key_is_not_stored(customer, rw):
    body = {"customer": customer.pk, "lines": [line(quantity=-1)]}
    assert_problem(rw.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="v-1"), 400)
    assert not IdempotencyRecord.objects.exists()


def test_ship_retried_makes_one_shipment(db, rw):
    order = make_order(status="packed")
    body = {"carrier": "DHL", "tracking_number": "T-77"}
    url = f"/api/v1/orders/{order.pk}/ship/"
    first = rw.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="ship-1")
    second = rw.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="ship-1")
    assert first.status_code == second.status_code == 200
    assert second["Idempotent-Replayed"] == "true"
    assert first.json() == second.json()
    assert Shipment.objects.filter(order=order).count() == 1
    # without the key, the retry is refused as a transition from shipped
    assert_problem(rw.post(url, body, format="json"), 409)


def test_customer_create_idempotent(db, rw):
    first = rw.post("/api/v1/customers/", {"name": "Idem"}, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    second = rw.post("/api/v1/customers/", {"name": "Idem"}, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]


def test_bulk_idempotent(customer, rw):
    body = {"orders": [{"customer": customer.pk, "source": "s", "external_ref": "r", "lines": [line()]}]}
    first = rw.post("/api/v1/orders/bulk/", body, format="json", HTTP_IDEMPOTENCY_KEY="b-1")
    second = rw.post("/api/v1/orders/bulk/", body, format="json", HTTP_IDEMPOTENCY_KEY="b-1")
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert first.json()["created"] == 1


# --- ETag / If-Match ---------------------------------------------------------------------


def test_order_etag_and_if_match(db, rw):
    order = make_order()
    url = f"/api/v1/orders/{order.pk}/"
    got = rw.get(url)
    assert got["ETag"] == f'"{order.pk}-{order.version}"'
    stale = f'"{order.pk}-{order.version - 1}"'
    response = rw.patch(url, {"ship_name": "Stale"}, format="json", HTTP_IF_MATCH=stale)
    assert_problem(response, 412)
    order.refresh_from_db()
    assert order.ship_name != "Stale"
    response = rw.patch(url, {"ship_name": "Fresh"}, format="json", HTTP_IF_MATCH=got["ETag"])
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.ship_name == "Fresh"
    assert response["ETag"] == f'"{order.pk}-{order.version}"' != got["ETag"]
    assert response.json()["version"] == order.version
    # the old ETag is stale now
    assert_problem(rw.patch(url, {"ship_name": "Again"}, format="json", HTTP_IF_MATCH=got["ETag"]), 412)
    # a weak ETag and a list are accepted; * always matches
    assert rw.patch(url, {"ship_city": "A"}, format="json", HTTP_IF_MATCH="*").status_code == 200
    current = rw.get(url)["ETag"]
    assert rw.patch(url, {"ship_city": "B"}, format="json", HTTP_IF_MATCH=f'"0-0", W/{current}').status_code == 200


def test_action_with_stale_if_match_is_412(db, rw):
    order = make_order()
    response = rw.post(f"/api/v1/orders/{order.pk}/confirm/", {}, format="json", HTTP_IF_MATCH='"1-999"')
    assert_problem(response, 412)
    order.refresh_from_db()
    assert order.status == "placed"


def test_by_ref_with_stale_if_match_is_412(customer, rw):
    order = make_order(customer, source="shop", external_ref="E-1")
    url = "/api/v1/orders/by-ref/shop/E-1/"
    response = rw.put(url, {"ship_name": "X"}, format="json", HTTP_IF_MATCH='"0-0"')
    assert_problem(response, 412)
    response = rw.put(url, {"ship_name": "X"}, format="json", HTTP_IF_MATCH=f'"{order.pk}-{order.version}"')
    assert response.status_code == 200, response.content


def test_customer_etag_and_if_match(db, rw):
    customer = CustomerFactory(name="Before")
    url = f"/api/v1/customers/{customer.pk}/"
    got = rw.get(url)
    assert got["ETag"] == f'"{customer.pk}-{customer.version}"'
    assert_problem(rw.patch(url, {"name": "Stale"}, format="json", HTTP_IF_MATCH='"0-0"'), 412)
    customer.refresh_from_db()
    assert customer.name == "Before"
    response = rw.patch(url, {"name": "After"}, format="json", HTTP_IF_MATCH=got["ETag"])
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.name == "After"
    assert response["ETag"] == f'"{customer.pk}-{customer.version}"' != got["ETag"]


def test_by_ref_creates_then_updates(customer, rw):
    url = "/api/v1/orders/by-ref/shop/R-7/"
    first = rw.put(url, order_body(customer.pk), format="json")
    assert first.status_code == 201 and first["Location"].endswith(f"/{first.json()['id']}/")
    second = rw.put(url, order_body(customer.pk, ship_name="Changed"), format="json")
    assert second.status_code == 200
    assert Order.objects.filter(source="shop", external_ref="R-7").count() == 1


def test_patch_cannot_change_customer_or_ref(db, rw):
    order = make_order()
    other = CustomerFactory()
    url = f"/api/v1/orders/{order.pk}/"
    assert_problem(rw.patch(url, {"customer": other.pk}, format="json"), 400)
    assert_problem(rw.patch(url, {"external_ref": "new"}, format="json"), 400)


# --- bulk ---------------------------------------------------------------------------------


def bulk_item(customer_id, ref, **extra):
    return {"customer": customer_id, "source": "erp", "external_ref": ref, "lines": [line()], **extra}


def test_bulk_mixed_items(customer, rw):
    good = [bulk_item(customer.pk, f"G-{n}") for n in range(3)]
    bad = [
        bulk_item(customer.pk, "BAD-QTY", lines=[line(quantity=-2)]),
        {"customer": customer.pk, "source": "erp", "lines": [line()]},
    ]
    body = {"orders": [good[0], bad[0], good[1], bad[1], good[2]]}
    response = rw.post("/api/v1/orders/bulk/", body, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["created"], data["updated"], data["errors"]) == (3, 0, 2)
    assert [r["result"] for r in data["results"]] == ["created", "error", "created", "error", "created"]
    assert [r["index"] for r in data["results"]] == [0, 1, 2, 3, 4]
    assert "lines.0.quantity" in data["results"][1]["errors"]
    assert "external_ref" in data["results"][3]["errors"]
    assert Order.objects.count() == 3
    assert not Order.objects.filter(external_ref="BAD-QTY").exists()

    again = rw.post("/api/v1/orders/bulk/", {"orders": good}, format="json").json()
    assert (again["created"], again["errors"]) == (0, 0)
    assert {r["result"] for r in again["results"]} <= {"updated", "unchanged"}
    assert Order.objects.count() == 3


def test_bulk_item_with_domain_error_reports_and_others_succeed(customer, rw):
    body = {"orders": [bulk_item(customer.pk, "OK"), bulk_item(999999, "NOCUST")]}
    data = rw.post("/api/v1/orders/bulk/", body, format="json").json()
    assert [r["result"] for r in data["results"]] == ["created", "error"]
    assert Order.objects.count() == 1


def test_bulk_item_not_a_dict(customer, rw):
    response = rw.post("/api/v1/orders/bulk/", {"orders": ["nope", 3]}, format="json")
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert_problem(response, 400)


def test_bulk_501_items_is_400(customer, rw):
    body = {"orders": [bulk_item(customer.pk, f"N-{n}") for n in range(501)]}
    assert_problem(rw.post("/api/v1/orders/bulk/", body, format="json"), 400)
    assert Order.objects.count() == 0


def test_bulk_empty_is_400(rw, db):
    assert_problem(rw.post("/api/v1/orders/bulk/", {"orders": []}, format="json"), 400)


def test_a_replayed_answer_may_echo_a_nul_character(customer, rw):
    """The bulk answer echoes each item's source; jsonb cannot store \\u0000, the record can."""
    body = {"orders": [order_body(customer.pk, source="sh\u0000op", external_ref="N-1")]}
    first = rw.post("/api/v1/orders/bulk/", body, format="json", HTTP_IDEMPOTENCY_KEY="nul-1")
    second = rw.post("/api/v1/orders/bulk/", body, format="json", HTTP_IDEMPOTENCY_KEY="nul-1")
    assert first.status_code < 500 and second.status_code == first.status_code
    assert second.json() == first.json() and second["Idempotent-Replayed"] == "true"
