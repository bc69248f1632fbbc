"""The order page after a refused action, and its markup."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fulfillment.tiers import Tier
from tests.factories import OrderFactory, UserFactory

from .conftest import login, wait_for_htmx

pytestmark = pytest.mark.browser


def test_refused_action_leaves_the_order_url_in_the_address_bar(live_server, page):
    senior = UserFactory(username="senior-reload", tier=Tier.SENIOR_REP)
    order = OrderFactory()
    login(page, live_server, senior)
    page.goto(f"{live_server.url}/orders/{order.number}/")
    wait_for_htmx(page)
    hold = page.locator("#action-hold")
    hold.locator("summary").click()
    hold.locator("[name=reason]").fill("   ")  # passes the browser's `required`, not the form's
    hold.get_by_role("button", name="Put on hold").click()
    expect(page.locator("#action-hold .errorlist")).to_be_visible()
    assert page.url == f"{live_server.url}/orders/{order.number}/"
    page.reload()
    expect(page.locator("h1")).to_contain_text(order.number)


def test_order_page_ids_are_unique(live_server, page, rep):
    order = OrderFactory()
    login(page, live_server, rep)
    page.goto(f"{live_server.url}/orders/{order.number}/")
    expect(page.locator("h1")).to_contain_text(order.number)
    duplicates = page.evaluate(
        """() => {
            const seen = {};
            document.querySelectorAll('[id]').forEach(el => { seen[el.id] = (seen[el.id] || 0) + 1; });
            return Object.keys(seen).filter(id => seen[id] > 1).sort();
        }"""
    )
    assert duplicates == []
