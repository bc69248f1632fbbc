"""Issue 9's flow in a real browser: a supervisor reads last week's billing reports.

supervisor1 opens the dashboard, chooses the "last week" preset and the billing category through
the filter form, sees the charts render (a screenshot is kept in test-artifacts/), and downloads
two cards' CSVs; their rows equal the numbers worked out by hand below from a small fixed data
set. "Now" is frozen for the whole test: the live server runs in this process and reads the same
clock, so its "last week" is the test's.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from fulfillment import clock
from fulfillment.actors import Actor
from fulfillment.tiers import Tier
from inquiries.enums import Category, InquiryStatus
from orders import services as order_services
from orders.enums import Department
from orders.services import LineInput
from tests.factories import CustomerFactory, OrderFactory, UserFactory
from tests.inquiries.factories import InquiryFactory

from .conftest import login, screenshot, wait_for_htmx

pytestmark = pytest.mark.browser

NOW = dt.datetime(2026, 3, 11, 12, 0, tzinfo=dt.UTC)  # a Wednesday: last week is 2–8 March
SYSTEM = Actor.system("test")


def at(day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=dt.UTC)


def opened(when: dt.datetime, category: str, *, resolved: bool = False, orders=()):
    fields = {"category": category, "orders": list(orders)}
    if orders:
        fields["customer"] = orders[0].customer  # an inquiry links its customer's orders
    if resolved:
        fields["status"] = InquiryStatus.RESOLVED  # resolved at once: at first contact
    with clock.frozen(when):
        return InquiryFactory(**fields)


def order_of(*skus: str):
    with clock.frozen(at(1)):
        return OrderFactory(
            customer=CustomerFactory(),
            lines=[LineInput(sku=s, description=s, quantity=1, unit_price=Decimal("5.00")) for s in skus],
        )


def handoff(when: dt.datetime, order, department: str) -> None:
    with clock.frozen(when):
        order_services.handoff_create(actor=SYSTEM, order=order, department=department, summary="Look at it")


def make_last_week() -> None:
    """Last week (2–8 March, UTC): three billing inquiries opened (two resolved at once), two
    delivery ones; one billing inquiry on each side of the week; hand-offs on the orders."""
    keyboard, mouse = order_of("KB-1", "MS-2"), order_of("MS-2")
    opened(at(2, 0), Category.BILLING, resolved=True, orders=[keyboard])  # the week's first minute
    opened(at(4, 9), Category.BILLING, orders=[mouse])
    opened(at(8, 23, 59), Category.BILLING, resolved=True)  # the week's last minute
    opened(at(3, 10), Category.DELIVERY, resolved=True, orders=[mouse])  # another category: out
    opened(at(5, 10), Category.DELIVERY)
    opened(at(1, 23, 59), Category.BILLING, resolved=True)  # the Sunday before: out
    opened(at(9, 0), Category.BILLING, resolved=True)  # this week: out
    handoff(at(6, 12), keyboard, Department.WAREHOUSE)
    handoff(at(6, 13), keyboard, Department.WAREHOUSE)
    handoff(at(7, 8), mouse, Department.RETURNS)
    handoff(at(9, 8), keyboard, Department.BILLING)  # this week: out


#: worked out by hand from make_last_week(), billing only, 2–8 March
EXPECTED = {
    "hot_spots": [
        ["Hot spot", "Count"],
        ["Category: Billing", "3"],
        ["Product: MS-2", "2"],  # the keyboard order and the mouse order both carry MS-2
        ["Product: KB-1", "1"],
        ["Department: Warehouse", "2"],
        ["Department: Returns", "1"],  # the mouse order is linked to a billing inquiry too
    ],
    "first_contact": [
        ["", "Resolved", "Resolved at first contact", "First-contact rate (%)", "Reopened", "Reopen rate (%)"],
        ["All", "2", "2", "100.0", "0", "0.0"],
    ],
}


def _download(page, key: str, folder: Path) -> list[list[str]]:
    card = page.locator(f"#metric-{key}")
    with page.expect_download() as info:
        card.get_by_role("link", name=re.compile(r"^CSV")).click()
    download = info.value
    assert download.suggested_filename == f"{key}_2026-03-02_2026-03-08.csv"
    path = folder / download.suggested_filename
    download.save_as(path)
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


@pytest.fixture
def frozen(settings):
    settings.TIME_ZONE = "UTC"
    with clock.frozen(NOW):
        yield


def test_a_supervisor_filters_last_weeks_billing_and_downloads_the_csv(live_server, page, frozen, tmp_path):
    supervisor = UserFactory(username="supervisor1", tier=Tier.SUPERVISOR, first_name="Lakshmi", last_name="Iyer")
    make_last_week()

    login(page, live_server, supervisor)
    page.goto(f"{live_server.url}/reports/")
    expect(page.locator("h1")).to_have_text("Reports")
    wait_for_htmx(page)

    form = page.get_by_role("form", name="Filter the reports")
    form.get_by_label("Period").select_option("last_week")
    form.get_by_label("Category").select_option(Category.BILLING)
    form.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"/reports/\?.*preset=last_week.*category=billing"))
    expect(page.locator("p.muted").filter(has_text="both days included")).to_contain_text("2026")
    wait_for_htmx(page)

    charts = page.locator(".report-card svg[role=img]")
    expect(charts.first).to_be_visible()
    assert charts.count() >= 2
    for key in EXPECTED:
        expect(page.locator(f"#metric-{key} svg[role=img]")).to_be_visible()
    expect(form.get_by_label("Period")).to_have_value("last_week")
    expect(form.get_by_label("Category")).to_have_value(Category.BILLING)
    screenshot(page, "dashboard_1_last_week_billing")

    for key, rows in EXPECTED.items():
        assert _download(page, key, tmp_path) == rows, key
    expect(page.locator("h1")).to_have_text("Reports")  # the download did not replace the page
    assert page.js_errors == []
