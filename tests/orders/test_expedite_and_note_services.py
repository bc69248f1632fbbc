"""order_request_expedite, order_clear_expedite, order_add_note."""

from __future__ import annotations

import datetime as dt

import pytest

from fulfillment import clock
from fulfillment.errors import InvalidInput
from orders import services
from orders.enums import EXPEDITABLE, OrderEventType, OrderStatus

from ..factories import OrderFactory
from .helpers import snapshot

NOW = dt.datetime(2031, 5, 6, 7, 8, tzinfo=dt.UTC)


@pytest.mark.parametrize("status", EXPEDITABLE)
def test_an_order_on_its_way_can_be_expedited(rep, status):
    order = OrderFactory(status=status)
    with clock.frozen(NOW):
        services.order_request_expedite(actor=rep, order=order, reason=" Needed for a trip ", requested_by="customer")

    order.refresh_from_db()
    assert (order.expedite, order.expedite_reason, order.expedite_requested_by, order.expedite_requested_at) == (
        True,
        "Needed for a trip",
        "customer",
        NOW,
    )
    event = order.events.get(type=OrderEventType.EXPEDITE_REQUESTED)
    assert event.details == {"reason": "Needed for a trip", "requested_by": "customer"}
    assert event.actor_user == rep


@pytest.mark.parametrize("status", [OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.RETURNED])
def test_a_finished_order_cannot_be_expedited(rep, status):
    order = OrderFactory(status=status)
    before = snapshot(order)
    with pytest.raises(InvalidInput):
        services.order_request_expedite(actor=rep, order=order, reason="Trip", requested_by="customer")
    assert snapshot(order) == before


@pytest.mark.parametrize(
    ("reason", "requested_by", "field"),
    [(" ", "customer", "reason"), ("Trip", "", "requested_by"), ("r" * 501, "customer", "reason")],
)
def test_an_expedite_needs_a_reason_and_who_asked(rep, order, reason, requested_by, field):
    before = snapshot(order)
    with pytest.raises(InvalidInput) as refused:
        services.order_request_expedite(actor=rep, order=order, reason=reason, requested_by=requested_by)
    assert field in refused.value.field_errors
    assert snapshot(order) == before


def test_clearing_an_expedite_is_recorded(rep, order):
    services.order_request_expedite(actor=rep, order=order, reason="Trip", requested_by="customer")
    services.order_clear_expedite(actor=rep, order=order, reason="Customer cancelled the trip")
    order.refresh_from_db()
    assert order.expedite is False
    event = order.events.get(type=OrderEventType.EXPEDITE_CLEARED)
    assert event.details == {"reason": "Customer cancelled the trip"}


def test_clearing_an_order_that_is_not_expedited_is_refused(rep, order):
    before = snapshot(order)
    with pytest.raises(InvalidInput):
        services.order_clear_expedite(actor=rep, order=order)
    assert snapshot(order) == before


def test_a_note_goes_on_the_timeline(rep, order):
    with clock.frozen(NOW):
        services.order_add_note(actor=rep, order=order, text="  Called: wants the tracking link  ")
    order.refresh_from_db()
    assert (order.version, order.updated_at) == (2, NOW)
    event = order.events.get(type=OrderEventType.NOTE_ADDED)
    assert event.details == {"text": "Called: wants the tracking link"}
    assert (event.actor_user, event.created_at) == (rep, NOW)


@pytest.mark.parametrize("text", ["", "   ", "x" * 5001])
def test_an_empty_or_overlong_note_is_refused(rep, order, text):
    before = snapshot(order)
    with pytest.raises(InvalidInput) as refused:
        services.order_add_note(actor=rep, order=order, text=text)
    assert "text" in refused.value.field_errors
    assert snapshot(order) == before
