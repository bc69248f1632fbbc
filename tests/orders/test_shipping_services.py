"""order_ship, order_deliver, shipment_update_status."""

from __future__ import annotations

import datetime as dt

import pytest

from fulfillment import clock
from fulfillment.errors import InvalidInput
from orders import services
from orders.enums import OrderEventType, OrderStatus, ServiceLevel, ShipmentStatus
from orders.models import Shipment

from ..factories import OrderFactory
from .helpers import snapshot

LATER = dt.datetime(2031, 5, 6, 7, 8, tzinfo=dt.UTC)


def test_ship_creates_the_shipment_and_records_both_events(rep):
    order = OrderFactory(status=OrderStatus.PACKED)
    with clock.frozen(LATER):
        shipment = services.order_ship(
            actor=rep, order=order, carrier=" FedEx ", tracking_number=" 7712 ", service_level=ServiceLevel.EXPRESS
        )

    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert (shipment.carrier, shipment.tracking_number, shipment.service_level, shipment.status) == (
        "FedEx",
        "7712",
        ServiceLevel.EXPRESS,
        ShipmentStatus.IN_TRANSIT,
    )
    assert shipment.shipped_at == LATER
    created = order.events.get(type=OrderEventType.SHIPMENT_CREATED)
    assert created.details == {
        "shipment": shipment.pk,
        "carrier": "FedEx",
        "tracking_number": "7712",
        "service_level": ServiceLevel.EXPRESS,
    }
    assert created.actor_user == rep
    assert order.events.filter(type=OrderEventType.STATUS_CHANGED).latest("id").details["new"] == OrderStatus.SHIPPED


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"carrier": "", "tracking_number": "T1"}, "carrier"),
        ({"carrier": "C" * 61, "tracking_number": "T1"}, "carrier"),
        ({"carrier": "DHL", "tracking_number": "  "}, "tracking_number"),
        ({"carrier": "DHL", "tracking_number": "T" * 81}, "tracking_number"),
        ({"carrier": "DHL", "tracking_number": "T" * 2000}, "tracking_number"),
        ({"carrier": "DHL", "tracking_number": "T1", "service_level": "teleport"}, "service_level"),
    ],
)
def test_ship_refuses_bad_input_and_changes_nothing(rep, data, field):
    order = OrderFactory(status=OrderStatus.PACKED)
    before = snapshot(order)
    with pytest.raises(InvalidInput) as refused:
        services.order_ship(actor=rep, order=order, **data)
    assert field in refused.value.field_errors
    assert snapshot(order) == before


def test_deliver_marks_every_open_shipment_delivered(rep):
    order = OrderFactory(status=OrderStatus.SHIPPED)
    shipment = order.shipments.get()
    with clock.frozen(LATER):
        services.order_deliver(actor=rep, order=order)

    shipment.refresh_from_db()
    assert (shipment.status, shipment.delivered_at) == (ShipmentStatus.DELIVERED, LATER)
    update = order.events.get(type=OrderEventType.SHIPMENT_UPDATED)
    assert update.details == {
        "shipment": shipment.pk,
        "tracking_number": shipment.tracking_number,
        "old": ShipmentStatus.IN_TRANSIT,
        "new": ShipmentStatus.DELIVERED,
    }


def test_a_carrier_update_is_recorded_and_leaves_the_order_status(rep):
    order = OrderFactory(status=OrderStatus.SHIPPED)
    shipment = order.shipments.get()
    version = order.version

    services.shipment_update_status(actor=rep, shipment=shipment, status=ShipmentStatus.OUT_FOR_DELIVERY)

    order.refresh_from_db()
    shipment.refresh_from_db()
    assert (order.status, order.version) == (OrderStatus.SHIPPED, version + 1)
    assert (shipment.status, shipment.delivered_at) == (ShipmentStatus.OUT_FOR_DELIVERY, None)
    event = order.events.get(type=OrderEventType.SHIPMENT_UPDATED)
    assert (event.details["old"], event.details["new"]) == (ShipmentStatus.IN_TRANSIT, ShipmentStatus.OUT_FOR_DELIVERY)


def test_the_same_carrier_status_again_records_nothing(rep):
    order = OrderFactory(status=OrderStatus.SHIPPED)
    before = snapshot(order)
    services.shipment_update_status(actor=rep, shipment=order.shipments.get(), status=ShipmentStatus.IN_TRANSIT)
    assert snapshot(order) == before


def test_an_unknown_carrier_status_is_refused(rep):
    order = OrderFactory(status=OrderStatus.SHIPPED)
    before = snapshot(order)
    with pytest.raises(InvalidInput) as refused:
        services.shipment_update_status(actor=rep, shipment=order.shipments.get(), status="lost_in_space")
    assert "status" in refused.value.field_errors
    assert snapshot(order) == before


def test_delivering_the_last_shipment_delivers_the_order(rep):
    order = OrderFactory(status=OrderStatus.SHIPPED)
    first = order.shipments.get()
    second = Shipment.objects.create(order=order, carrier="DHL", tracking_number="SECOND-PARCEL")

    services.shipment_update_status(actor=rep, shipment=first, status=ShipmentStatus.DELIVERED)
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED  # one parcel is still on its way

    with clock.frozen(LATER):
        services.shipment_update_status(actor=rep, shipment=second, status=ShipmentStatus.DELIVERED)
    order.refresh_from_db()
    second.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert second.delivered_at == LATER
    status_event = order.events.filter(type=OrderEventType.STATUS_CHANGED).latest("id")
    assert (status_event.details["old"], status_event.details["new"]) == (OrderStatus.SHIPPED, OrderStatus.DELIVERED)
    assert status_event.actor_user == rep


def test_a_delivery_problem_does_not_deliver_the_order(rep):
    order = OrderFactory(status=OrderStatus.SHIPPED)
    services.shipment_update_status(actor=rep, shipment=order.shipments.get(), status=ShipmentStatus.EXCEPTION)
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
