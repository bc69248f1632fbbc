"""The new-order form with its line formset, the customer form and the order-list filter form."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orders.enums import CustomerEventType, OrderStatus
from orders.models import Customer, Order

from ..factories import OrderFactory
from .helpers import customer_snapshot, world


def order_post(*lines, **fields) -> dict:
    data = {
        "currency": "USD",
        "ship_by": "",
        "deliver_by": "",
        "lines-TOTAL_FORMS": str(max(len(lines), 1)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "100",
        **fields,
    }
    for i, line in enumerate(lines):
        for key, value in line.items():
            data[f"lines-{i}-{key}"] = value
    return data


GOOD_LINE = {"sku": "KB-100", "description": "Keyboard", "quantity": "2", "unit_price": "25.00"}


def test_a_new_order_is_created_from_its_lines(rep_client, customer):
    data = order_post(GOOD_LINE, {"sku": "CB-010", "quantity": "3", "unit_price": "0.99"}, currency="eur")
    data["lines-TOTAL_FORMS"] = "4"  # two blank extra forms, as the page sends them

    response = rep_client.post(f"/customers/{customer.pk}/orders/new/", data)

    order = Order.objects.get()
    assert response.status_code == 302
    assert response.url == f"/orders/{order.number}/"
    assert (order.total, order.currency, order.source, order.status) == (
        Decimal("52.97"),
        "EUR",
        "desk",
        OrderStatus.PLACED,
    )
    assert order.lines.count() == 2
    assert order.events.get().actor_name == "rep1"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (order_post({**GOOD_LINE, "quantity": "-1"}), "Ensure this value is greater than or equal to 1."),
        (order_post({**GOOD_LINE, "quantity": "0"}), "Ensure this value is greater than or equal to 1."),
        (order_post({**GOOD_LINE, "quantity": "1.5"}), "Enter a whole number."),
        (order_post({**GOOD_LINE, "unit_price": "1.005"}), "Ensure that there are no more than 2 decimal places."),
        (order_post({**GOOD_LINE, "unit_price": "-1"}), "Ensure this value is greater than or equal to 0."),
        (order_post({**GOOD_LINE, "sku": "S" * 65}), "Ensure this value has at most 64 characters (it has 65)."),
        (order_post({**GOOD_LINE, "sku": ""}), "This field is required."),
        (order_post({}), "Please submit at least 1 form."),
        (order_post(GOOD_LINE, currency="US"), "Ensure this value has at least 3 characters (it has 2)."),
        (order_post(GOOD_LINE, currency="U1D"), "Use a three-letter currency code, e.g. USD."),
        (
            order_post(GOOD_LINE, ship_by="2031-01-05", deliver_by="2031-01-04"),
            "Must be on or after the ship-by date.",
        ),
        (
            order_post({**GOOD_LINE, "quantity": "1000000", "unit_price": "9999999999.99"}),
            "The order total is too large.",
        ),
    ],
    ids=[
        "negative quantity",
        "zero quantity",
        "fractional quantity",
        "three decimals",
        "negative price",
        "overlong sku",
        "empty sku",
        "no lines",
        "short currency",
        "currency with a digit",
        "deliver before ship",
        "total too large",
    ],
)
def test_a_bad_new_order_is_refused_with_400_and_creates_nothing(rep_client, customer, data, message):
    before = world()
    response = rep_client.post(f"/customers/{customer.pk}/orders/new/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert world() == before


CUSTOMER = {
    "name": "Grace Bautista",
    "email": "grace@example.com",
    "phone": "+63 917 555 0101",
    "preferred_language": "fil",
    "preferred_channel": "phone",
    "address_line1": "",
    "address_line2": "",
    "city": "Manila",
    "region": "",
    "postal_code": "",
    "country": "ph",
    "notes": "",
}


def test_a_new_customer_is_created_through_the_service(rep_client):
    response = rep_client.post("/customers/new/", CUSTOMER)
    customer = Customer.objects.get()
    assert (response.status_code, response.url) == (302, f"/customers/{customer.pk}/")
    assert (customer.country, customer.phone_digits) == ("PH", "639175550101")
    assert customer.events.get().type == CustomerEventType.CREATED


def test_a_customer_edit_records_what_changed(rep_client, customer):
    data = {**CUSTOMER, "name": "Renamed Person"}
    response = rep_client.post(f"/customers/{customer.pk}/edit/", data)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "Renamed Person"
    event = customer.events.get(type=CustomerEventType.UPDATED)
    assert event.details["changes"]["name"][1] == "Renamed Person"
    assert event.actor_name == "rep1"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"preferred_language": "xx"}, "Select a valid choice."),
        ({"name": "n" * 201}, "Ensure this value has at most 200 characters (it has 201)."),
    ],
)
def test_a_bad_customer_edit_is_refused_with_400(rep_client, customer, change, message):
    before = customer_snapshot(customer)
    response = rep_client.post(f"/customers/{customer.pk}/edit/", {**CUSTOMER, **change})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert customer_snapshot(customer) == before


def test_placed_after_later_than_placed_before_is_a_400_with_an_error(rep_client):
    OrderFactory()
    response = rep_client.get("/orders/", {"placed_after": "2031-02-01", "placed_before": "2031-01-01"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "The end date is before the start date." in page
    assert "No orders match these filters." in page


@pytest.mark.parametrize(
    "query", [{"placed_after": "yesterday"}, {"status": "teleported"}, {"promise": "someday"}, {"customer": "x"}]
)
def test_a_malformed_filter_is_a_400(rep_client, query):
    OrderFactory()
    assert rep_client.get("/orders/", query).status_code == 400


def test_the_status_filter_narrows_the_list(rep_client):
    placed, confirmed = OrderFactory(), OrderFactory(status=OrderStatus.CONFIRMED)
    response = rep_client.get("/orders/", {"status": ["confirmed"]})
    assert response.status_code == 200
    assert [o.pk for o in response.context["page"].items] == [confirmed.pk]
    assert placed.number not in response.content.decode()
