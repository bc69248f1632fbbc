"""The issue's flow in a real browser: a rep finds the caller by phone and marks the order shipped."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from fulfillment import clock
from fulfillment.actors import Actor
from fulfillment.tiers import Tier
from orders import services
from orders.enums import OrderStatus, PaymentKind
from orders.models import Order, OrderEvent, Shipment
from tests.factories import CustomerFactory, OrderFactory, UserFactory

from .conftest import login, screenshot, wait_for_htmx

pytestmark = pytest.mark.browser


def test_rep_finds_caller_by_phone_and_marks_order_shipped(live_server, page):
    rep = UserFactory(username="rep-browser", tier=Tier.REP, first_name="Priya", last_name="Raman")
    caller = CustomerFactory(name="Lakshmi Iyer", phone="+1 555 201 4477")
    CustomerFactory(name="Someone Else", phone="+1 555 999 0000")
    order = OrderFactory(customer=caller)
    services.order_confirm(actor=Actor.system("test"), order=order)
    tracking = "1Z999AA10123456784"

    login(page, live_server, rep)

    # The caller reads their number aloud; the rep types it the way they hear it.
    search = page.locator("#global-search")
    search.fill("(555) 201-4477")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q="))
    results = page.locator("#r-orders").locator("xpath=..")
    expect(results.get_by_role("link", name=order.number)).to_be_visible()
    expect(page.get_by_role("link", name="Someone Else")).to_have_count(0)
    results.get_by_role("link", name=order.number).click()

    expect(page).to_have_url(re.compile(rf"/orders/{order.number}/$"))
    expect(page.locator("h1 .badge")).to_have_text("Confirmed")
    wait_for_htmx(page)

    # The keyboard shortcut opens the panel and puts the cursor in its first field …
    ship = page.locator("#action-ship")
    expect(ship).not_to_have_attribute("open", "")
    page.locator("body").press("s")
    expect(ship).to_have_attribute("open", "")
    expect(ship.locator("[name=carrier]")).to_be_focused()
    # … Escape closes it again, and the summary (a mouse user's way) opens it too.
    page.keyboard.press("Escape")
    expect(ship).not_to_have_attribute("open", "")
    ship.get_by_text("Mark shipped").first.click()
    expect(ship).to_have_attribute("open", "")

    ship.locator("[name=carrier]").fill("DHL")
    ship.locator("[name=tracking_number]").fill(tracking)
    ship.locator("[name=service_level]").select_option("express")
    ship.get_by_role("button", name="Mark shipped").click()

    expect(page).to_have_url(re.compile(rf"/orders/{order.number}/$"))
    expect(page.locator("h1 .badge").first).to_have_text("Shipped")
    expect(page.get_by_role("status")).to_contain_text("Order marked shipped.")
    timeline = page.locator("ol.timeline")
    expect(timeline.locator("li").first).to_contain_text(tracking)
    expect(timeline.locator("li").first).to_contain_text("DHL")
    expect(timeline).to_contain_text("Priya Raman")
    expect(page.locator("#ship-h").locator("xpath=..")).to_contain_text(tracking)
    expect(page.locator("#action-ship")).to_have_count(0)  # shipped: no second "Mark shipped"
    screenshot(page, "rep_marks_order_shipped")

    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    shipment = Shipment.objects.get(order=order)
    assert (shipment.carrier, shipment.tracking_number, shipment.service_level) == ("DHL", tracking, "express")
    event = OrderEvent.objects.get(order=order, type="shipment_created")
    assert event.actor_user == rep
    assert event.details["tracking_number"] == tracking
    assert page.js_errors == []


def test_refused_refund_shows_the_field_error_and_the_page_keeps_working(live_server, page):
    senior = UserFactory(username="senior-browser", tier=Tier.SENIOR_REP)
    order = OrderFactory(lines=[services.LineInput(sku="HD-330", description="Headset", quantity=1, unit_price=100)])
    services.order_record_payment(actor=Actor.system("payments"), order=order, amount=Decimal("100.00"))

    login(page, live_server, senior)
    page.goto(f"{live_server.url}/orders/{order.number}/")
    wait_for_htmx(page)

    refund = page.locator("#action-refund")
    refund.locator("summary").click()
    refund.locator("[name=amount]").fill("150.00")
    refund.locator("[name=reason]").fill("Customer asked for more back than they paid")
    refund.get_by_role("button", name="Refund").click()

    # Refused: the panel stays open with the service's message on the amount field.
    refund = page.locator("#action-refund")
    expect(refund).to_have_attribute("open", "")
    expect(refund.locator(".errorlist")).to_contain_text("At most 100.00 USD can be refunded.")
    expect(page.locator(".form-errors[role=alert]").first).to_contain_text("cannot be more than what was paid")
    expect(refund.locator("[name=amount]")).to_have_value("150.00")
    screenshot(page, "refund_refused")
    order.refresh_from_db()
    assert order.refunded_amount == 0
    assert not order.payments.filter(kind=PaymentKind.REFUND).exists()

    # The page still works: a refund within what was paid goes through from the same page.
    wait_for_htmx(page)
    refund.locator("[name=amount]").fill("40.00")
    refund.get_by_role("button", name="Refund").click()
    expect(page).to_have_url(re.compile(rf"/orders/{order.number}/$"))
    expect(page.get_by_role("status")).to_contain_text("Refund recorded.")
    expect(page.locator("#summary-h").locator("xpath=..")).to_contain_text("40.00")
    expect(page.locator("ol.timeline li").first).to_contain_text("40.00")
    # … and the address bar holds a page that can be reloaded.
    page.reload()
    expect(page.locator("h1")).to_contain_text(order.number)
    screenshot(page, "refund_after_refusal")

    order.refresh_from_db()
    assert order.refunded_amount == Decimal("40.00")
    assert OrderEvent.objects.filter(order=order, type="refund_recorded").count() == 1
    assert page.js_errors == []


def test_order_list_filters_and_cursor_paging(live_server, page, settings, rep):
    settings.FD_PAGE_SIZE = 5  # the live server thread reads the same settings object
    today = clock.today()
    late = [OrderFactory(ship_by=today - dt.timedelta(days=3)) for _ in range(2)]
    for late_order in late:
        services.order_confirm(actor=Actor.system("test"), order=late_order)
    on_time = [OrderFactory(ship_by=today + dt.timedelta(days=10)) for _ in range(10)]
    everything = Order.objects.count()
    assert everything == 12

    login(page, live_server, rep)
    page.goto(f"{live_server.url}/orders/")
    rows = page.locator("#order-results tbody tr")
    expect(rows).to_have_count(5)
    newest_first = [o.number for o in sorted(late + on_time, key=lambda o: (o.placed_at, o.pk), reverse=True)]
    expect(rows.locator("td:first-child a")).to_have_text(newest_first[:5])

    # Cursor paging: Older → twice reaches the end, ← Newer comes back.
    wait_for_htmx(page)
    page.get_by_role("link", name="Older →").click()
    expect(page).to_have_url(re.compile(r"cursor="))
    expect(rows.locator("td:first-child a")).to_have_text(newest_first[5:10])
    wait_for_htmx(page)
    page.get_by_role("link", name="Older →").click()
    expect(rows.locator("td:first-child a")).to_have_text(newest_first[10:])
    expect(page.get_by_role("link", name="Older →")).to_have_count(0)
    wait_for_htmx(page)
    page.get_by_role("link", name="← Newer").click()
    expect(rows.locator("td:first-child a")).to_have_text(newest_first[5:10])

    # Status select (auto-submits on change).
    page.goto(f"{live_server.url}/orders/")
    wait_for_htmx(page)
    page.locator("select[name=status]").select_option("confirmed")
    expect(page).to_have_url(re.compile(r"status=confirmed"))
    expect(rows).to_have_count(2)
    expect(rows.locator("td:first-child a")).to_have_text(sorted((o.number for o in late), reverse=True))

    # Promise: late (on its own, from a clean list).
    page.goto(f"{live_server.url}/orders/")
    wait_for_htmx(page)
    page.locator("select[name=promise]").select_option("late")
    expect(page).to_have_url(re.compile(r"promise=late"))
    expect(rows).to_have_count(2)
    expect(rows.locator(".badge.late")).to_have_count(2)

    # Late AND placed (none: both late orders are confirmed) → the empty state.
    page.locator("select[name=status]").select_option("placed")
    expect(page).to_have_url(re.compile(r"status=placed.*promise=late|promise=late.*status=placed"))
    expect(page.locator("#order-results")).to_contain_text("No orders match these filters.")

    # Filters survive paging: placed orders, 10 of them, two pages.
    page.goto(f"{live_server.url}/orders/?status=placed")
    expect(rows).to_have_count(5)
    wait_for_htmx(page)
    page.get_by_role("link", name="Older →").click()
    expect(page).to_have_url(re.compile(r"status=placed.*cursor=|cursor=.*status=placed"))
    expect(rows).to_have_count(5)
    expect(page.get_by_role("link", name="Older →")).to_have_count(0)
    expect(page.locator("select[name=status] option:checked")).to_have_text(["Placed"])
    screenshot(page, "order_list_filtered_page_2")
    assert page.js_errors == []
