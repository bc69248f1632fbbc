"""What the reminders show: the at-risk badge on the order pages, the marker in the rep's queue
(without a query per row), and the inquiry page's reply form preselecting a proposed update's
template (``?template=<id>``). Pages need a login and a staff role, as before."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fulfillment import clock
from inquiries.models import ResponseTemplate
from inquiries.services import reminders

from ..factories import OrderFactory
from .factories import InquiryFactory
from .test_query_counts import QUEUE_QUERIES

NOW = dt.datetime(2031, 3, 4, 10, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _get(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(queries), response.content.decode()


def _late_order(customer):
    with clock.frozen(NOW):
        return OrderFactory(customer=customer, ship_by=(NOW + DAY).date(), deliver_by=(NOW + 3 * DAY).date())


def _flag():
    with clock.frozen(NOW + 2 * DAY):
        reminders.flag_late_orders()


def test_the_order_pages_show_the_flag(rep, customer):
    order = _late_order(customer)
    client = _client(rep)
    with clock.frozen(NOW + 2 * DAY):
        _queries, page = _get(client, f"/orders/{order.number}/")
        assert "At risk: not shipped by" not in page
        _flag()
        _queries, page = _get(client, f"/orders/{order.number}/")
        assert "At risk: not shipped by 03/05/2031" in page
        _queries, listing = _get(client, "/orders/")
        assert "At risk: not shipped by 03/05/2031" in listing


def test_the_order_list_with_flagged_orders_is_constant(rep, customer):
    client = _client(rep)

    def make(n):
        for _ in range(n):
            _late_order(customer)
        _flag()

    with clock.frozen(NOW + 2 * DAY):
        make(2)
        small, page = _get(client, "/orders/")
        make(20)
        large, page = _get(client, "/orders/")
    assert small == large
    assert page.count("At risk: not shipped by") == 22


def test_the_queue_marks_inquiries_whose_order_is_at_risk_in_constant_queries(rep, customer):
    client = _client(rep)

    def make(n):
        for i in range(n):
            order = _late_order(customer)
            with clock.frozen(NOW):
                InquiryFactory(customer=customer, orders=[order] if i % 2 else [], assignee=rep)
        _flag()

    with clock.frozen(NOW + 2 * DAY):
        make(2)
        small, page = _get(client, "/inquiries/?queue=mine")
        assert page.count("Order at risk</span>") == 1
        make(20)
        large, page = _get(client, "/inquiries/?queue=mine")
    assert small == large == QUEUE_QUERIES
    assert page.count("Order at risk</span>") == 11


def test_the_marker_is_only_for_flagged_orders(rep, customer):
    with clock.frozen(NOW):
        order = OrderFactory(customer=customer, ship_by=(NOW + 5 * DAY).date())
        InquiryFactory(customer=customer, orders=[order], assignee=rep)
    _flag()
    with clock.frozen(NOW + 2 * DAY):
        _queries, page = _get(_client(rep), "/inquiries/?queue=mine")
    assert "Order at risk</span>" not in page


def test_a_proposed_update_link_preselects_its_template(rep, customer):
    customer.preferred_language = "fil"
    customer.save(update_fields=["preferred_language"])
    inquiry = InquiryFactory(customer=customer, assignee=rep)
    template = ResponseTemplate.objects.get(name="Still working on it", language="fil")
    _queries, page = _get(_client(rep), f"/inquiries/{inquiry.pk}/?template={template.pk}")
    assert f'<option value="{template.pk}" selected>' in page
    _queries, page = _get(_client(rep), f"/inquiries/{inquiry.pk}/?template=x1")  # not a number: ignored
    assert " selected>Still working on it" not in page


@pytest.mark.parametrize("path", ["/inquiries/{pk}/?template=1", "/inquiries/?queue=mine"])
def test_the_pages_still_need_a_staff_role(no_role_user, customer, path):
    inquiry = InquiryFactory(customer=customer)
    url = path.format(pk=inquiry.pk)
    assert Client().get(url).status_code == 302  # to the login page
    assert _client(no_role_user).get(url).status_code == 403
