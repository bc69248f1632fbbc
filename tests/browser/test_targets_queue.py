"""Service targets in a real browser: a supervisor opens the team queue, reads each inquiry's
"Due next" (state in words and colour, what is due, when), and narrows it to what needs
attention. With FD_README_SCREENSHOTS=1 the filtered queue becomes docs/screenshots/queue-targets.png.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from fulfillment import clock
from fulfillment.tiers import Tier
from inquiries import services
from inquiries.enums import Category, InquiryStatus, Priority
from tests.factories import CustomerFactory, UserFactory
from tests.inquiries.factories import InquiryFactory

from .conftest import login, screenshot, wait_for_htmx

pytestmark = pytest.mark.browser

README_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
#: Tuesday, 10:00 UTC: the default calendar (Monday to Friday, 09:00–17:00) is open.
NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)

#: The colours of the states (static/css/desk.css): text and background, never colour alone.
COLOURS = {
    "breached": ("rgb(161, 34, 34)", "rgb(253, 230, 230)"),
    "at_risk": ("rgb(122, 77, 0)", "rgb(255, 242, 214)"),
    "on_track": ("rgb(29, 107, 58)", "rgb(227, 243, 232)"),
    "paused": ("rgb(79, 91, 107)", "rgb(232, 235, 239)"),
}


def _inquiry(at: dt.datetime, name: str, subject: str, **kwargs):
    with clock.frozen(at):
        return InquiryFactory(customer=CustomerFactory(name=name), subject=subject, **kwargs)


def _desk(rep, senior):
    """Eight inquiries at NOW: three breached, two at risk, two on track, one paused."""
    made = {
        # First responses of 8 business hours (4 when high, 1 when urgent), at risk from 75 %.
        "breached_fr": _inquiry(NOW - 4 * 24 * HOUR, "Meena Krishnan", "Parcel marked delivered, not received"),
        "breached_urgent": _inquiry(
            NOW - 24 * HOUR - HOUR / 2, "Tomás Rivera", "Charged twice for one order", priority=Priority.URGENT
        ),
        "at_risk_fr": _inquiry(NOW - 23 * HOUR, "Grace Okafor", "Wrong size sent", category=Category.RETURN),
        "on_track": _inquiry(NOW - 20 * MINUTE, "Ananya Iyer", "Change delivery address", assignee=rep),
        "on_track_high": _inquiry(
            NOW - HOUR / 2, "Lucas Martin", "Warranty for the kettle", priority=Priority.HIGH, tier=Tier.SENIOR_REP
        ),
        "paused": _inquiry(NOW - 2 * HOUR, "Hannah Schmidt", "Invoice needs a VAT number", assignee=senior),
    }
    with clock.frozen(NOW - 90 * MINUTE):
        services.reply_send(actor=senior, inquiry=made["paused"], body="Which VAT number should it show?")
        services.inquiry_set_status(actor=senior, inquiry=made["paused"], status=InquiryStatus.WAITING_CUSTOMER)
    # A callback promised for 09:30 and not made: breached. One promised an hour ago for 10:15: at risk.
    made["breached_callback"] = _inquiry(NOW - 5 * HOUR, "Kwame Mensah", "Call about the refund", assignee=rep)
    with clock.frozen(NOW - 2 * HOUR):
        services.callback_promise(actor=rep, inquiry=made["breached_callback"], due_at=NOW - HOUR / 2)
    made["at_risk_callback"] = _inquiry(NOW - 2 * HOUR, "Sofia Rossi", "Replacement not dispatched", assignee=senior)
    with clock.frozen(NOW - HOUR):
        services.callback_promise(actor=senior, inquiry=made["at_risk_callback"], due_at=NOW + 15 * MINUTE)
    return made


def _row(page, inquiry):
    return page.locator("tr.sla-row", has=page.get_by_role("link", name=inquiry.reference, exact=True))


def _expect_state(page, inquiry, state: str, label: str, kind: str) -> None:
    row = _row(page, inquiry)
    expect(row).to_have_class(re.compile(rf"\bsla-row {state}\b"))
    badge = row.locator("td.due-next .sla")
    expect(badge).to_have_text(label)
    expect(row.locator("td.due-next")).to_contain_text(kind)
    colour, background = COLOURS[state]
    expect(badge).to_have_css("color", colour)
    expect(badge).to_have_css("background-color", background)


def test_supervisor_narrows_the_team_queue_to_what_needs_attention(live_server, page):
    page.set_viewport_size({"width": 1366, "height": 760})
    supervisor = UserFactory(username="sup-targets", tier=Tier.SUPERVISOR, first_name="Asha", last_name="Menon")
    rep = UserFactory(username="rep-targets", tier=Tier.REP, first_name="Priya", last_name="Raman")
    senior = UserFactory(username="senior-targets", tier=Tier.SENIOR_REP, first_name="Dev", last_name="Patel")
    with clock.frozen(NOW):
        desk = _desk(rep, senior)
        login(page, live_server, supervisor)
        page.goto(f"{live_server.url}/inquiries/?queue=team")
        wait_for_htmx(page)
        expect(page.locator("tr.sla-row")).to_have_count(8)

        _expect_state(page, desk["breached_fr"], "breached", "Breached", "First response")
        _expect_state(page, desk["breached_urgent"], "breached", "Breached", "First response")
        _expect_state(page, desk["breached_callback"], "breached", "Breached", "Callback")
        _expect_state(page, desk["at_risk_fr"], "at_risk", "At risk", "First response")
        _expect_state(page, desk["at_risk_callback"], "at_risk", "At risk", "Callback")
        _expect_state(page, desk["on_track"], "on_track", "On track", "First response")
        _expect_state(page, desk["paused"], "paused", "Paused", "waiting on the customer")
        expect(_row(page, desk["breached_fr"]).locator("td.due-next")).to_contain_text("overdue")
        expect(_row(page, desk["at_risk_fr"]).locator("td.due-next")).to_contain_text("in 1 h 00 min")

        filters = page.get_by_role("navigation", name="Service targets")
        expect(filters.get_by_role("link", name="All")).to_have_attribute("aria-current", "true")
        filters.get_by_role("link", name="Needs attention").click()
        page.wait_for_url(re.compile(r"/inquiries/\?queue=team&sla=attention$"))
        wait_for_htmx(page)

        expect(filters.get_by_role("link", name="Needs attention")).to_have_attribute("aria-current", "true")
        expect(page.get_by_role("navigation", name="Queues").get_by_role("link", name="Team")).to_have_attribute(
            "aria-current", "page"
        )
        rows = page.locator("tr.sla-row")
        expect(rows).to_have_count(5)
        # Nearest deadline first: the longest-breached at the top.
        expect(rows.first).to_contain_text(desk["breached_fr"].reference)
        for name in ("breached_fr", "breached_urgent", "breached_callback"):
            expect(_row(page, desk[name]).locator(".sla")).to_have_text("Breached")
        for name in ("at_risk_fr", "at_risk_callback"):
            expect(_row(page, desk[name]).locator(".sla")).to_have_text("At risk")
        for name in ("on_track", "on_track_high", "paused"):
            expect(_row(page, desk[name])).to_have_count(0)
        assert not page.js_errors

        screenshot(page, "targets_queue_attention")
        if os.environ.get("FD_README_SCREENSHOTS") == "1":
            page.set_viewport_size({"width": 1366, "height": 540})  # the five rows, no empty page below
            page.evaluate("window.scrollTo(0, 0)")
            screenshot(page, "queue-targets", folder=README_SCREENSHOTS, full_page=False)

        # The filter stays while the supervisor moves between queues.
        page.get_by_role("navigation", name="Queues").get_by_role("link", name="My inquiries").click()
        page.wait_for_url(re.compile(r"/inquiries/\?queue=mine&sla=attention$"))
        expect(page.get_by_text("Nothing here matches this filter.")).to_be_visible()
