"""Queue pages and the inquiry page make the same number of queries with few rows as with many."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fulfillment import clock
from inquiries import services
from inquiries.enums import Category

from ..factories import OrderFactory
from .factories import InquiryFactory, paid_order

QUEUE_QUERIES = 3  # session, user, the page of inquiries joined with customers and assignees
CALLBACK_QUEUE_QUERIES = 3  # the same, with the due callbacks as a subquery
#: session, user; the inquiry with customer and assignee; its tags; linked orders with their lines,
#: shipments and hand-offs; plan steps with owners; remedies with their orders and replacement
#: orders; pending callbacks; the timeline page with its messages and calls, their attachments;
#: the customer's past inquiries and orders; who else is here, and the presence update; the reply
#: templates; the staff choices of the assign and plan-step forms; the service-target clocks (the
#: policy with its calendar, the policy's target row, the timeline facts the clocks replay); the
#: escalation panel's history with its people (its approval requests come from the remedies above);
#: the customer portal panel's ratings and status links.
INQUIRY_PAGE_QUERIES = 28


def _count(client, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(queries)


@pytest.fixture
def rep_client(rep):
    client = Client()
    client.force_login(rep)
    return client


@pytest.mark.parametrize("queue", ["mine", "unassigned", "team", "all", "callbacks"])
def test_queue_pages_are_constant(rep, rep_client, queue, django_assert_num_queries):
    def make(n):
        for i in range(n):
            inquiry = InquiryFactory(assignee=rep if i % 2 else None)
            services.callback_promise(actor=rep, inquiry=inquiry, due_at=clock.now() + dt.timedelta(minutes=20))

    make(3)
    small = _count(rep_client, f"/inquiries/?queue={queue}")
    make(27)
    large = _count(rep_client, f"/inquiries/?queue={queue}")
    assert small == large
    expected = CALLBACK_QUEUE_QUERIES if queue == "callbacks" else QUEUE_QUERIES
    with django_assert_num_queries(expected):
        rep_client.get(f"/inquiries/?queue={queue}")


def test_search_is_constant(rep_client, customer):
    for i in range(3):
        InquiryFactory(customer=customer, subject=f"Broken kettle {i}")
    small = _count(rep_client, "/inquiries/search/?q=kettle")
    for i in range(27):
        InquiryFactory(customer=customer, subject=f"Broken kettle {i}")
    assert _count(rep_client, "/inquiries/search/?q=kettle") == small


def _busy(inquiry, rep, n):
    """n of everything the page shows: messages, notes, calls, remedies, steps, orders, callbacks."""
    customer = inquiry.customer
    for i in range(n):
        services.message_receive(actor=rep, inquiry=inquiry, body=f"More {i}", channel="email")
        services.reply_send(actor=rep, inquiry=inquiry, body=f"Reply {i}")
        services.note_add(actor=rep, inquiry=inquiry, body=f"Note {i}")
        services.call_log(actor=rep, inquiry=inquiry, direction="outbound", outcome="info_given", notes=f"c{i}")
        order = paid_order(customer, "30.00")
        services.link_order(actor=rep, inquiry=inquiry, order=order)
        services.remedy_propose(actor=rep, inquiry=inquiry, kind="refund", amount="1.00", order=order, reason="x")
        services.plan_step_add(actor=rep, inquiry=inquiry, title=f"Step {i}")
        services.callback_promise(actor=rep, inquiry=inquiry, due_at=clock.now() + dt.timedelta(hours=i + 1))
        OrderFactory(customer=customer)


def test_the_inquiry_page_is_constant(rep, rep_client, customer, django_assert_num_queries):
    inquiry = InquiryFactory(customer=customer, category=Category.DELIVERY, assignee=rep)
    _busy(inquiry, rep, 2)
    rep_client.get(f"/inquiries/{inquiry.pk}/")  # the first visit also creates the presence row
    small = _count(rep_client, f"/inquiries/{inquiry.pk}/")
    _busy(inquiry, rep, 8)
    large = _count(rep_client, f"/inquiries/{inquiry.pk}/")
    assert small == large
    with django_assert_num_queries(INQUIRY_PAGE_QUERIES):
        rep_client.get(f"/inquiries/{inquiry.pk}/")
