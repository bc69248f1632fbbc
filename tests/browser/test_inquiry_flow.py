"""Issue 4's flow in a real browser: a phone call from a known customer, worked to resolution.

The rep finds the caller by a phone number typed the way it is heard, logs the call as a new
inquiry linked to the order, replies with a template, proposes a refund (declined) and a
replacement (accepted), runs a two-step plan and resolves; the timeline tells it all in order.
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from fulfillment.tiers import Tier
from inquiries.enums import Category, InquiryStatus, RemedyKind, RemedyState
from inquiries.models import Inquiry
from orders.enums import OrderStatus, PaymentKind
from orders.models import Order
from tests.factories import CustomerFactory, OrderFactory, UserFactory
from tests.inquiries.factories import ResponseTemplateFactory

from .conftest import login, resolve_inquiry, screenshot, wait_for_htmx

pytestmark = pytest.mark.browser

#: FD_README_SCREENSHOTS=1 also refreshes the README's pictures (off by default: a plain test run
#: must not rewrite tracked files).
README_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WIDTH = 1280
STEPS = ("Order the replacement from the warehouse", "Call Meena when the courier has it")


def _picture(page, name: str, readme_name: str) -> None:
    screenshot(page, name)
    if os.environ.get("FD_README_SCREENSHOTS") == "1":
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, readme_name, folder=README_SCREENSHOTS, full_page=False)


def _propose(form, kind: str, order: Order, reason: str, *, amount: str = "") -> None:
    """Fill and send the open remedy form (new, or "Offer an alternative")."""
    form.get_by_label("Remedy").select_option(kind)
    form.get_by_label("Order").select_option(str(order.pk))
    if amount:
        form.get_by_label("Amount").fill(amount)
    form.get_by_label("Reason").fill(reason)
    form.get_by_role("button", name="Propose a remedy").click()


def _answer(page, row, answer: str, words: str) -> None:
    """Record the customer's answer to the proposed remedy in ``row``, in their words."""
    wait_for_htmx(page)
    row.get_by_label("Customer's words").fill(words)
    row.get_by_role("button", name=answer).click()


def test_rep_works_a_phone_inquiry_from_call_to_resolution(live_server, page):
    page.set_viewport_size({"width": WIDTH, "height": 900})
    rep = UserFactory(username="rep-inquiry", tier=Tier.REP, first_name="Priya", last_name="Raman")
    caller = CustomerFactory(name="Meena Krishnan", phone="+91 98400 12345", preferred_language="en")
    CustomerFactory(name="Someone Else", phone="+91 98400 54321", preferred_language="en")
    order = OrderFactory(customer=caller, status=OrderStatus.DELIVERED, paid=Decimal("60.50"))
    template = ResponseTemplateFactory(
        name="Damaged in transit",
        category=Category.DELIVERY,
        body="We are sorry that order {order_number} arrived damaged. We will put it right.",
    )

    login(page, live_server, rep)
    flash = page.locator("ul.messages")

    # --- the new-call screen: find the caller as they read their number out -------------------
    page.goto(f"{live_server.url}/inquiries/call/")
    wait_for_htmx(page)
    page.get_by_label("Phone, email, name or order number").fill("98400 12345")
    candidates = page.locator("#caller-results li")
    expect(candidates).to_have_count(1)
    expect(candidates).to_contain_text("Meena Krishnan")
    wait_for_htmx(page)
    candidates.get_by_role("link", name="This is the caller").click()

    expect(page.locator("#call-h")).to_contain_text("Call with Meena Krishnan")
    page.get_by_label("What is it about?").fill("Keyboard arrived with a cracked case")
    page.get_by_label("Category").select_option(Category.DELIVERY)
    page.get_by_role("checkbox", name=re.compile(order.number)).check()
    page.get_by_label("Duration").fill("4:30")
    page.get_by_label("Notes: what the customer said").fill(
        "The parcel was crushed; two keys are broken. She needs the keyboard for work."
    )
    _picture(page, "inquiry_flow_new_call", "new-call")
    page.get_by_role("button", name="Log the call").click()

    expect(page).to_have_url(re.compile(r"/inquiries/\d+/$"))
    expect(flash).to_contain_text("Call logged on")
    inquiry = Inquiry.objects.get(customer=caller)
    expect(page.locator("h1")).to_contain_text(inquiry.reference)

    # --- a templated reply -----------------------------------------------------------------------
    wait_for_htmx(page)
    page.get_by_label("Template").select_option(str(template.pk))
    page.get_by_role("button", name="Send reply").click()
    expect(flash).to_contain_text("Reply sent.")

    # --- a refund, declined ------------------------------------------------------------------------
    remedies = page.locator("#remedies")
    propose = page.locator("#action-remedy")
    wait_for_htmx(page)
    propose.locator("summary").click()
    _propose(propose, RemedyKind.REFUND, order, "Damaged in transit", amount="60.50")
    expect(flash).to_contain_text("Remedy proposed.")

    refund_row = remedies.locator("tbody tr").filter(has_text="Refund")
    expect(refund_row).to_contain_text("60.50")
    _answer(page, refund_row, "Declined", "I'd rather have the keyboard than the money")

    # Declined: the page comes back with the remedy form open as "Offer an alternative".
    expect(page).to_have_url(re.compile(r"\?alternative=\d+"))
    expect(propose).to_have_attribute("open", "")
    expect(propose.locator("summary")).to_contain_text("Offer an alternative")
    expect(refund_row).to_contain_text("Declined")

    # --- a replacement as the alternative, accepted -----------------------------------------------
    wait_for_htmx(page)
    _propose(propose, RemedyKind.REPLACEMENT, order, "Same keyboard, sent again at no charge")
    expect(flash).to_contain_text("Remedy proposed.")

    replacement_row = remedies.locator("tbody tr").filter(has_text="Replacement")
    expect(replacement_row).to_contain_text("(alternative)")
    _answer(page, replacement_row, "Accepted", "Yes please, same address")
    expect(flash).to_contain_text("Remedy accepted.")
    replacement = Order.objects.exclude(pk=order.pk).get(customer=caller)
    expect(replacement_row.get_by_role("link", name=replacement.number)).to_be_visible()

    # --- a two-step plan, both done ------------------------------------------------------------------
    plan = page.locator("#action-plan")
    for title in STEPS:
        wait_for_htmx(page)
        plan.locator("summary").click()  # closed again on each fresh page
        plan.get_by_label("Step").fill(title)
        plan.get_by_role("button", name="Add a plan step").click()
        expect(page.locator("ol.steps")).to_contain_text(title)
    for title in STEPS:
        wait_for_htmx(page)
        page.get_by_role("button", name=f"Mark step done: {title}").click()
        expect(page.get_by_role("button", name=f"Reopen step: {title}")).to_be_visible()
    expect(page.locator("#plan-h")).to_contain_text("2/2")

    # --- resolve --------------------------------------------------------------------------------------
    resolve_inquiry(page, reason="Replacement accepted and on its way")

    # --- what the page shows ----------------------------------------------------------------------------
    timeline = page.locator("ol.timeline > li")
    reply = timeline.filter(has_text="Reply sent").locator(".msg.outbound")
    expect(reply).to_have_text(re.compile(r"^\s*Dear Meena,\s"))
    expect(reply).to_contain_text(f"order {order.number} arrived damaged")
    expect(reply).to_contain_text("Priya Raman")
    expect(timeline.locator("strong")).to_have_text(
        [
            "Inquiry opened",
            "Order linked",
            "Call logged",
            "Status changed",  # the first reply opens the inquiry
            "Reply sent",
            "Remedy proposed",
            "Remedy decided",
            "Remedy proposed",
            "Order linked",  # the replacement order, made on acceptance
            "Remedy decided",
            "Plan step added",
            "Plan step added",
            "Plan step done",
            "Plan step done",
            "Status changed",
            "Follow-up call scheduled",  # resolving schedules the call to the customer
        ]
    )
    expect(timeline.nth(0)).to_contain_text("Phone · Delivery")
    expect(timeline.nth(1)).to_contain_text(order.number)
    expect(timeline.nth(2)).to_contain_text("two keys are broken")
    expect(timeline.nth(3)).to_contain_text("New → Open")
    expect(timeline.nth(5)).to_contain_text("Refund 60.50 USD")
    expect(timeline.nth(6)).to_contain_text("Declined · “I'd rather have the keyboard than the money”")
    expect(timeline.nth(7)).to_contain_text("Replacement")
    expect(timeline.nth(8).get_by_role("link", name=replacement.number)).to_be_visible()
    expect(timeline.nth(9)).to_contain_text("Accepted · “Yes please, same address”")
    expect(timeline.nth(9).get_by_role("link", name=replacement.number)).to_be_visible()
    expect(timeline.nth(12)).to_contain_text(STEPS[0])
    expect(timeline.nth(13)).to_contain_text(STEPS[1])
    expect(timeline.nth(14)).to_contain_text("Open → Resolved")
    expect(timeline.last).to_contain_text("Follow-up call scheduled: call at")
    expect(page.locator("#linked-h").locator("xpath=..")).to_contain_text(replacement.number)
    _picture(page, "inquiry_flow_resolved", "inquiry")

    # --- what the database holds -------------------------------------------------------------------------
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.RESOLVED
    assert inquiry.assignee == rep
    assert inquiry.order_links.filter(order=order).exists()
    refund, offered = inquiry.remedies.order_by("pk")
    assert (refund.kind, refund.state, refund.refund_payment) == (RemedyKind.REFUND, RemedyState.DECLINED, None)
    assert refund.decision_note == "I'd rather have the keyboard than the money"
    assert (offered.kind, offered.state) == (RemedyKind.REPLACEMENT, RemedyState.ACCEPTED)
    assert offered.alternative_to == refund
    assert offered.replacement_order == replacement
    order.refresh_from_db()
    assert order.refunded_amount == 0
    assert not order.payments.filter(kind=PaymentKind.REFUND).exists()
    assert replacement.status == OrderStatus.PLACED
    assert sorted((line.sku, line.quantity, line.unit_price) for line in replacement.lines.all()) == [
        ("KB-100", 2, Decimal("0.00")),
        ("MS-220", 1, Decimal("0.00")),
    ]
    assert [(s.title, s.is_done) for s in inquiry.plan_steps.order_by("pk")] == [(t, True) for t in STEPS]
    assert page.js_errors == []
