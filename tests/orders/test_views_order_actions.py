"""POST /orders/<number>/actions/<action>/: each action works, bad input is refused with 400 and a
message on the page, and a refused POST changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from fulfillment.actors import Actor
from orders import services
from orders.enums import HandoffState, OrderStatus, ShipmentStatus
from orders.models import Order
from orders.views import ACTIONS

from ..factories import HandoffFactory, OrderFactory
from .helpers import snapshot

#: action → (starting status, POST data, what must hold afterwards, success message)
CASES = {
    "confirm": (OrderStatus.PLACED, {}, lambda o: o.status == OrderStatus.CONFIRMED, "Order confirmed."),
    "process": (OrderStatus.CONFIRMED, {}, lambda o: o.status == OrderStatus.PROCESSING, "Processing started."),
    "pack": (OrderStatus.PROCESSING, {}, lambda o: o.status == OrderStatus.PACKED, "Order marked packed."),
    "ship": (
        OrderStatus.PACKED,
        {"carrier": "DHL", "tracking_number": "JD0001", "service_level": "express"},
        lambda o: o.status == OrderStatus.SHIPPED and o.shipments.get().tracking_number == "JD0001",
        "Order marked shipped.",
    ),
    "deliver": (
        OrderStatus.SHIPPED,
        {},
        lambda o: o.status == OrderStatus.DELIVERED and o.shipments.get().status == ShipmentStatus.DELIVERED,
        "Order marked delivered.",
    ),
    "hold": (
        OrderStatus.CONFIRMED,
        {"reason": "Address to check"},
        lambda o: (o.status, o.held_from_status) == (OrderStatus.ON_HOLD, OrderStatus.CONFIRMED),
        "Order put on hold.",
    ),
    "release": (OrderStatus.ON_HOLD, {}, lambda o: o.status == OrderStatus.PLACED, "Hold released."),
    "cancel": (OrderStatus.PLACED, {"reason": "Changed mind"}, lambda o: o.status == OrderStatus.CANCELLED, None),
    "return": (OrderStatus.DELIVERED, {"reason": "Damaged"}, lambda o: o.status == OrderStatus.RETURNED, None),
    "expedite": (
        OrderStatus.PLACED,
        {"reason": "Trip", "requested_by": "customer"},
        lambda o: o.expedite and o.expedite_requested_by == "customer",
        "Expedite requested.",
    ),
    "clear_expedite": ("expedited", {"reason": ""}, lambda o: not o.expedite, "Expedite cleared."),
    "note": (OrderStatus.PLACED, {"text": "Called back"}, lambda o: o.events.filter(type="note_added").exists(), None),
    "payment": (
        OrderStatus.PLACED,
        {"amount": "60.50", "reference": "PAY-9"},
        lambda o: (o.paid_amount, o.payment_status) == (Decimal("60.50"), "paid"),
        "Payment recorded.",
    ),
    "refund": (
        "paid",
        {"amount": "10.00", "reason": "Dent", "reference": ""},
        lambda o: o.refunded_amount == Decimal("10.00"),
        "Refund recorded.",
    ),
    "handoff": (
        OrderStatus.PLACED,
        {"department": "billing", "summary": "Charged twice", "owner": "", "due_date": ""},
        lambda o: o.handoffs.get().summary == "Charged twice",
        "Hand-off created.",
    ),
    "dates": (
        OrderStatus.PLACED,
        {"ship_by": "2031-01-01", "deliver_by": "2031-01-03"},
        lambda o: (o.ship_by, o.deliver_by) == (dt.date(2031, 1, 1), dt.date(2031, 1, 3)),
        "Promised dates saved.",
    ),
}


def _order(start: str) -> Order:
    if start == "expedited":
        order = OrderFactory()
        return services.order_request_expedite(actor=Actor.system(), order=order, reason="Trip", requested_by="me")
    if start == "paid":
        return OrderFactory(paid="60.50")
    return OrderFactory(status=start)


def _url(order, action):
    return f"/orders/{order.number}/actions/{action}/"


def test_every_action_of_the_view_is_tested():
    assert set(CASES) == set(ACTIONS)


@pytest.mark.parametrize("action", CASES)
def test_each_action_works_and_says_so(rep_client, senior_client, action):
    start, data, check, message = CASES[action]
    order = _order(start)
    client = senior_client if action == "refund" else rep_client

    response = client.post(_url(order, action), {**data, "version": order.version}, follow=True)

    assert response.redirect_chain == [(f"/orders/{order.number}/", 302)]
    assert response.status_code == 200
    order.refresh_from_db()
    assert check(order)
    if message:
        assert message in response.content.decode()


def _refused(client, order, action, data, status):
    before = snapshot(order)
    response = client.post(_url(order, action), data)
    assert response.status_code == status
    assert snapshot(order) == before
    return response.content.decode()


def test_a_2000_character_tracking_number_is_refused(rep_client):
    order = OrderFactory(status=OrderStatus.PACKED)
    page = _refused(rep_client, order, "ship", {"carrier": "DHL", "tracking_number": "T" * 2000}, 400)
    assert "Ensure this value has at most 80 characters (it has 2000)." in page


def test_a_refund_above_what_was_paid_is_refused(senior_client):
    order = OrderFactory(paid="60.50")
    page = _refused(senior_client, order, "refund", {"amount": "60.51", "reason": "Dent"}, 400)
    assert "A refund cannot be more than what was paid and not yet refunded." in page
    assert "At most 60.50 USD can be refunded." in page


def test_deliver_by_before_ship_by_is_refused(rep_client, order):
    page = _refused(rep_client, order, "dates", {"ship_by": "2031-01-05", "deliver_by": "2031-01-04"}, 400)
    assert "Must be on or after the ship-by date." in page


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("hold", {"reason": ""}, "This field is required."),
        ("payment", {"amount": "1.005"}, "Ensure that there are no more than 2 decimal places."),
        ("payment", {"amount": "-5"}, "Ensure this value is greater than or equal to 0.01."),
        ("payment", {"amount": "99999999999"}, "Ensure this value is less than or equal to 9999999999.99."),
        ("note", {"text": "x" * 5001}, "Ensure this value has at most 5000 characters (it has 5001)."),
        ("handoff", {"department": "marketing", "summary": "x"}, "Select a valid choice."),
        (
            "handoff",
            {"department": "billing", "summary": "x", "due_date": "2000-01-01"},
            "The due date is in the past.",
        ),
        ("expedite", {"reason": "", "requested_by": ""}, "This field is required."),
        ("clear_expedite", {}, "This order is not being expedited."),
        ("dates", {"ship_by": "not a date"}, "Enter a valid date."),
    ],
)
def test_bad_input_is_refused_with_400_and_a_message(rep_client, order, action, data, message):
    page = _refused(rep_client, order, action, data, 400)
    assert message in page


def test_a_move_the_table_does_not_allow_is_409_and_names_the_allowed_moves(rep_client):
    order = OrderFactory(status=OrderStatus.DELIVERED)
    page = _refused(rep_client, order, "confirm", {}, 409)
    assert "Cannot go from “Delivered” to “Confirmed”. Allowed: Returned." in page


def test_a_stale_page_is_409(rep_client, order):
    page = _refused(rep_client, order, "confirm", {"version": order.version + 1}, 409)
    assert "Someone else changed this in the meantime." in page


def test_a_rep_may_not_refund(rep_client):
    order = OrderFactory(paid="60.50")
    page = _refused(rep_client, order, "refund", {"amount": "1.00", "reason": "Dent"}, 403)
    assert "it needs Senior rep or above" in page


def test_an_unknown_action_is_404(rep_client, order):
    _refused(rep_client, order, "teleport", {}, 404)


def test_an_action_on_an_unknown_order_is_404(rep_client):
    assert rep_client.post("/orders/FD9999999/actions/confirm/").status_code == 404


@pytest.mark.parametrize("action", ["confirm", "refund", "teleport"])
def test_get_on_an_action_url_is_405(rep_client, order, action):
    before = snapshot(order)
    assert rep_client.get(_url(order, action)).status_code == 405
    assert snapshot(order) == before


def test_csrf_is_enforced(rep, order):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    before = snapshot(order)

    assert client.post(_url(order, "confirm"), {}).status_code == 403
    assert snapshot(order) == before

    client.get(f"/orders/{order.number}/")  # sets the CSRF cookie, as the page would
    token = client.cookies["csrftoken"].value
    response = client.post(_url(order, "confirm"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED


def test_the_handoff_state_form_moves_a_handoff_and_refuses_a_final_one(rep_client):
    handoff = HandoffFactory()
    response = rep_client.post(f"/handoffs/{handoff.pk}/state/", {"state": "done"}, follow=True)
    assert "Hand-off updated." in response.content.decode()
    handoff.refresh_from_db()
    assert handoff.state == HandoffState.DONE

    response = rep_client.post(f"/handoffs/{handoff.pk}/state/", {"state": "open"}, follow=True)
    assert "Cannot go from “Done” to “Open”. Allowed: none." in response.content.decode()
    handoff.refresh_from_db()
    assert handoff.state == HandoffState.DONE


def test_the_order_page_offers_a_rep_no_refund(rep_client, senior_client):
    order = OrderFactory(paid="60.50")
    action = f"/orders/{order.number}/actions/refund/"
    assert action not in rep_client.get(f"/orders/{order.number}/").content.decode()
    assert action in senior_client.get(f"/orders/{order.number}/").content.decode()
