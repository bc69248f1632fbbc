"""Details of an inquiry: inquiry_update, linked orders, department hand-offs, account adjustments."""

from __future__ import annotations

import datetime as dt

import pytest

from fulfillment import clock
from fulfillment.errors import Conflict, InvalidInput
from fulfillment.tiers import Specialty
from inquiries import services
from inquiries.enums import Category, EventType, InquiryStatus, Priority
from orders.enums import Department, OrderEventType
from orders.models import Customer, CustomerEvent, Handoff, OrderEvent

from ..factories import CustomerFactory, OrderFactory
from .conftest import NOW
from .factories import InquiryFactory
from .helpers import fresh, last_event, refused, snapshot

S = InquiryStatus
HOUR = dt.timedelta(hours=1)


# --- inquiry_update ---------------------------------------------------------------------------------------


def test_update_writes_and_records_only_what_differs(rep, frozen_now):
    inquiry = InquiryFactory(subject="Late", category=Category.DELIVERY)
    services.inquiry_update(
        actor=rep,
        inquiry=inquiry,
        subject="Late",
        category=Category.BILLING,
        specialty_needed=Specialty.BILLING,
        tags=["vip"],
    )
    row = fresh(inquiry)
    assert (row.category, row.specialty_needed) == (Category.BILLING, Specialty.BILLING)
    changed, tagged = last_event(row, offset=1), last_event(row)
    assert changed.details == {
        "changes": {"category": ["delivery", "billing"], "specialty_needed": ["shipping", "billing"]}
    }
    assert tagged.details == {"changes": {"tags": ["", "vip"]}}


def test_a_new_priority_moves_the_deadlines(rep, frozen_now):
    inquiry = InquiryFactory(priority=Priority.NORMAL)
    services.inquiry_update(actor=rep, inquiry=inquiry, priority=Priority.URGENT)
    row = fresh(inquiry)
    assert (row.response_due_at, row.resolve_due_at, row.due_at) == (NOW + HOUR, NOW + 24 * HOUR, NOW + HOUR)


def test_an_update_that_changes_nothing_records_nothing(rep, inquiry):
    events = snapshot(inquiry)["events"]
    services.inquiry_update(actor=rep, inquiry=inquiry, subject=inquiry.subject, priority=inquiry.priority)
    assert snapshot(inquiry)["events"] == events


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"subject": ""}, InvalidInput),
        ({"priority": 0}, InvalidInput),
        ({"category": "gossip"}, InvalidInput),
        ({"specialty_needed": "astrology"}, InvalidInput),
        ({"tags": ["ok", "!!"]}, InvalidInput),
        ({"subject": "New", "expected_version": 1}, Conflict),
    ],
)
def test_a_bad_update_is_refused(rep, inquiry, kwargs, error):
    refused(inquiry, error, lambda: services.inquiry_update(actor=rep, inquiry=inquiry, **kwargs))


# --- linked orders ------------------------------------------------------------------------------------------


def test_link_and_unlink_an_order(rep, inquiry, customer):
    second = OrderFactory(customer=customer)
    services.link_order(actor=rep, inquiry=inquiry, order=second)
    assert last_event(inquiry).details == {"number": second.number}
    services.unlink_order(actor=rep, inquiry=inquiry, order=second)
    assert (last_event(inquiry).type, last_event(inquiry).details) == (
        EventType.ORDER_UNLINKED,
        {"number": second.number},
    )
    assert second not in fresh(inquiry).orders.all()


def test_linking_refuses_a_foreign_order_or_twice(rep, inquiry, order):
    foreign = OrderFactory(customer=CustomerFactory())
    refused(inquiry, InvalidInput, lambda: services.link_order(actor=rep, inquiry=inquiry, order=foreign))
    refused(inquiry, InvalidInput, lambda: services.link_order(actor=rep, inquiry=inquiry, order=order))
    refused(inquiry, InvalidInput, lambda: services.unlink_order(actor=rep, inquiry=inquiry, order=foreign))


# --- hand-offs ----------------------------------------------------------------------------------------------


def test_a_handoff_lands_on_both_timelines_and_the_inquiry_waits(rep, inquiry, order):
    handoff = services.handoff_to_department(
        actor=rep, inquiry=inquiry, order=order, department=Department.WAREHOUSE, summary="Check the shelf"
    )
    assert (handoff.order, handoff.department) == (order, Department.WAREHOUSE)
    assert OrderEvent.objects.filter(order=order, type=OrderEventType.HANDOFF_CREATED).count() == 1
    row = fresh(inquiry)
    assert row.status == S.WAITING_DEPARTMENT
    handed, moved = last_event(row, offset=1), last_event(row)
    assert (handed.type, handed.details["department"]) == (EventType.HANDOFF, Department.WAREHOUSE)
    assert moved.details["new"] == S.WAITING_DEPARTMENT


def test_a_handoff_without_waiting_keeps_the_status(rep, order, inquiry):
    services.handoff_to_department(
        actor=rep, inquiry=inquiry, order=order, department=Department.BILLING, summary="Refund check", wait=False
    )
    assert fresh(inquiry).status == S.NEW


@pytest.mark.parametrize(("department", "summary"), [("kitchen", "Cook"), (Department.SHIPPING, " ")])
def test_a_bad_handoff_is_refused_on_both_sides(rep, inquiry, order, department, summary):
    refused(
        inquiry,
        InvalidInput,
        lambda: services.handoff_to_department(
            actor=rep, inquiry=inquiry, order=order, department=department, summary=summary
        ),
    )
    assert not Handoff.objects.exists()


def test_a_handoff_needs_a_linked_order(rep, inquiry, customer):
    unlinked = OrderFactory(customer=customer)
    refused(
        inquiry,
        InvalidInput,
        lambda: services.handoff_to_department(
            actor=rep, inquiry=inquiry, order=unlinked, department=Department.SHIPPING, summary="Trace it"
        ),
    )
    assert not Handoff.objects.exists()


# --- account adjustments ---------------------------------------------------------------------------------------


def test_an_address_change_lands_on_the_customer_and_the_inquiry(rep, inquiry, customer):
    with clock.frozen(NOW):
        services.customer_adjust(actor=rep, inquiry=inquiry, address_line1="2 New Road", city="Chennai")
    customer.refresh_from_db()
    assert customer.address_line1 == "2 New Road"
    assert CustomerEvent.objects.filter(customer=customer).order_by("-id").first().actor_user == rep
    event = last_event(inquiry)
    assert (event.type, event.details) == (
        EventType.CUSTOMER_UPDATED,
        {"changes": {"address_line1": ["1 Main Street", "2 New Road"]}},
    )


def test_an_adjustment_that_changes_nothing_records_nothing(rep, inquiry, customer):
    before = snapshot(inquiry)
    services.customer_adjust(actor=rep, inquiry=inquiry, city=customer.city)
    assert snapshot(inquiry) == before


@pytest.mark.parametrize("data", [{"name": ""}, {"preferred_language": "xx"}, {"expected_version": 99, "city": "Pune"}])
def test_a_bad_adjustment_is_refused_on_both_sides(rep, inquiry, customer, data):
    before = Customer.objects.values().get(pk=customer.pk)
    refused(inquiry, (InvalidInput, Conflict), lambda: services.customer_adjust(actor=rep, inquiry=inquiry, **data))
    assert Customer.objects.values().get(pk=customer.pk) == before
