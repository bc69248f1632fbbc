"""Issue 6's flow in a real browser, with two people in two browser contexts.

rep1 proposes a refund above a rep's authority: it becomes an approval request. supervisor1
finds it in the review queue and approves it: the refund is made, and rep1 reads "Remedy
approved" with the refund on the timeline. Then rep1 escalates another inquiry straight to the
supervisor (skipping a tier, with the reason); supervisor1 sees it in the review queue and
returns it with a coaching note, which rep1 reads on the inquiry and under "My coaching".
With FD_README_SCREENSHOTS=1 the review queue becomes docs/screenshots/review-queue.png.
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from escalation import services as ladder
from escalation.models import Escalation
from fulfillment.tiers import Tier
from inquiries import services
from inquiries.enums import Category, RemedyKind, RemedyState
from orders.enums import PaymentKind
from tests.factories import CustomerFactory, UserFactory
from tests.inquiries.factories import InquiryFactory, paid_order

from .conftest import TIMEOUT_MS, login, screenshot, wait_for_htmx

pytestmark = pytest.mark.browser

README_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
COACHING = "Good summary. Next time offer the 20.00 goodwill credit first: it is within your authority."


def _complaint(rep, name: str, subject: str, *, paid: str = "400.00"):
    """An inquiry of rep's about a paid order, the order linked."""
    inquiry = InquiryFactory(
        customer=CustomerFactory(name=name, preferred_language="en"),
        assignee=rep,
        category=Category.COMPLAINT,
        subject=subject,
    )
    order = paid_order(inquiry.customer, paid)
    services.link_order(actor=rep, inquiry=inquiry, order=order)
    return inquiry, order


def _more_work(rep, senior) -> None:
    """What else waits for the supervisor, so the queue looks like a working day."""
    big, order = _complaint(rep, "Tomás Rivera", "Sofa arrived torn, wants everything back", paid="1800.00")
    services.remedy_propose(
        actor=rep, inquiry=big, kind=RemedyKind.REFUND, amount="1500.00", order=order, reason="Torn on delivery"
    )
    for name, subject, reason, text in (
        ("Grace Okafor", "Third missed delivery slot", "repeat", "Fourth call this week"),
        ("Hannah Schmidt", "Charged twice, bank fees claimed", "exception", "Wants the bank fee covered"),
    ):
        inquiry = InquiryFactory(
            customer=CustomerFactory(name=name), assignee=senior, category=Category.BILLING, subject=subject
        )
        ladder.escalate(actor=senior, inquiry=inquiry, reason="authority", tried="Checked the order")
        ladder.escalate(
            actor=senior,
            inquiry=inquiry,
            reason=reason,
            reason_text=text,
            tried="Apologised; checked the payment log",
            to_tier=Tier.SUPERVISOR,
            skip_reason="Needs a decision today",
        )


def test_approval_and_coaching_across_the_ladder(live_server, page, browser, browser_context_args):
    page.set_viewport_size({"width": 1366, "height": 900})
    rep = UserFactory(username="rep1", tier=Tier.REP, first_name="Priya", last_name="Raman")
    senior = UserFactory(username="senior1", tier=Tier.SENIOR_REP, first_name="Dev", last_name="Patel")
    supervisor = UserFactory(username="supervisor1", tier=Tier.SUPERVISOR, first_name="Asha", last_name="Menon")
    inquiry, order = _complaint(rep, "Meena Krishnan", "Television arrived with a cracked screen")
    second, _order = _complaint(rep, "Lucas Martin", "Wants compensation for a missed installation")
    _more_work(rep, senior)

    # --- rep1: a refund above a rep's limit (100.00) becomes an approval request ------------------
    login(page, live_server, rep)
    flash = page.locator("ul.messages")
    page.goto(f"{live_server.url}/inquiries/{inquiry.pk}/")
    wait_for_htmx(page)
    propose = page.locator("#action-remedy")
    propose.locator("summary").click()
    propose.get_by_label("Remedy").select_option(RemedyKind.REFUND)
    propose.get_by_label("Order").select_option(str(order.pk))
    propose.get_by_label("Amount").fill("250.00")
    propose.get_by_label("Reason").fill("Screen cracked in transit; she does not want a replacement")
    propose.get_by_role("button", name="Propose a remedy").click()
    expect(flash).to_contain_text("Above your authority: sent to the Senior rep tier for approval.")
    refund_row = page.locator("#remedies tbody tr").filter(has_text="Refund")
    expect(refund_row).to_contain_text("Awaiting approval from Senior rep")
    panel = page.locator("#escalation")
    expect(panel).to_contain_text("Waiting for the Senior rep tier or above to decide.")
    expect(panel.get_by_role("button", name="Approve")).to_have_count(0)  # nobody approves their own
    remedy = inquiry.remedies.get()
    assert (remedy.state, remedy.approval_tier) == (RemedyState.PENDING_APPROVAL, Tier.SENIOR_REP)

    # --- supervisor1, in a second browser: the review queue, the senior tier's approvals --------
    context = browser.new_context(**browser_context_args)
    boss = context.new_page()
    boss.set_default_timeout(TIMEOUT_MS)
    boss_errors: list[str] = []
    boss.on("pageerror", lambda exc: boss_errors.append(str(exc)))
    boss.set_viewport_size({"width": 1366, "height": 900})
    try:
        login(boss, live_server, supervisor)
        boss.get_by_role("link", name="Review", exact=True).click()
        boss.wait_for_url(re.compile(r"/escalation/review/$"))
        wait_for_htmx(boss)
        expect(boss.locator("h1")).to_have_text("Review")
        # Every request the supervisor may answer (rep1's 250.00 waiting on the senior tier and
        # the 1,500.00 one waiting on the supervisors), and the two escalations to supervisor.
        expect(boss.locator("#approvals tbody tr")).to_have_count(2)
        expect(boss.locator("#escalated tbody tr")).to_have_count(2)
        request_row = boss.locator(f"#request-{remedy.pk}")
        expect(request_row).to_contain_text(inquiry.reference)
        expect(request_row).to_contain_text("Meena Krishnan")
        expect(request_row).to_contain_text("250.00 USD")
        expect(request_row).to_contain_text("Priya Raman")  # asked by
        request_row.locator("summary", has_text="Decide").click()
        request_row.get_by_label("Note").fill("Agreed: the courier's damage report confirms it")
        request_row.get_by_role("button", name="Approve").click()
        boss.wait_for_url(re.compile(r"/escalation/review/$"))
        expect(boss.locator("ul.messages")).to_contain_text(
            f"Approved: Refund 250.00 USD carried out on {inquiry.reference}."
        )
        expect(boss.locator(f"#request-{remedy.pk}")).to_have_count(0)

        # The refund was made: the order shows it.
        boss.goto(f"{live_server.url}/orders/{order.number}/")
        wait_for_htmx(boss)
        expect(boss.locator("#pay-h").locator("xpath=..")).to_contain_text("250.00")
        order.refresh_from_db()
        assert order.refunded_amount == Decimal("250.00")
        assert order.payments.get(kind=PaymentKind.REFUND).amount == Decimal("250.00")

        # --- rep1 reads the approval on the timeline ----------------------------------------------
        page.reload()
        wait_for_htmx(page)
        approved = page.locator("ol.timeline > li").filter(has_text="Remedy approved")
        expect(approved).to_contain_text("Refund 250.00 USD")
        expect(approved).to_contain_text(f"refunded 250.00 USD on {order.number}")
        expect(approved).to_contain_text("Asha Menon")
        expect(refund_row).to_contain_text("Accepted")

        # --- rep1 escalates another inquiry straight to the supervisor ------------------------------
        page.goto(f"{live_server.url}/inquiries/{second.pk}/")
        wait_for_htmx(page)
        page.locator("#escalation").get_by_role("link", name="Escalate").click()
        page.wait_for_url(re.compile(rf"/escalation/inquiries/{second.pk}/escalate/$"))
        wait_for_htmx(page)
        form = page.locator("form.ladder-form")
        expect(form.get_by_label("Specialty")).to_be_hidden()  # only for a specialist
        form.get_by_label("To tier").select_option(str(Tier.SPECIALIST))
        expect(form.get_by_label("Specialty")).to_be_visible()
        screenshot(page, "escalation_escalate_form")
        form.get_by_label("Why", exact=True).select_option("customer_asked")
        form.get_by_label("What was tried").fill("Offered a new installation date; he refused")
        form.get_by_label("To tier").select_option(str(Tier.SUPERVISOR))
        form.get_by_role("button", name="Escalate").click()
        # Past the senior tier without a reason: refused, the form says why.
        expect(form.locator(".field.has-error")).to_contain_text("Going past the Senior rep tier needs a reason.")
        assert not Escalation.objects.filter(inquiry=second).exists()
        form.get_by_label("Why skip a tier").fill("He asked for the supervisor by name")
        form.get_by_role("button", name="Escalate").click()
        page.wait_for_url(re.compile(rf"/inquiries/{second.pk}/$"))
        expect(flash).to_contain_text("Escalated to the Supervisor tier.")
        expect(page.locator("#escalation")).to_contain_text("Rep → Supervisor")

        # --- supervisor1 sees it in the queue and returns it with a coaching note -------------------
        boss.goto(f"{live_server.url}/escalation/review/")
        wait_for_htmx(boss)
        row = boss.locator(f"#inquiry-{second.pk}")
        expect(row).to_contain_text("Priya Raman")
        expect(row).to_contain_text("The customer asked for a senior colleague")
        expect(row).to_contain_text("skipped a tier")
        expect(boss.locator("#escalated tbody tr")).to_have_count(3)
        screenshot(boss, "escalation_review_queue")
        if os.environ.get("FD_README_SCREENSHOTS") == "1":
            boss.evaluate("window.scrollTo(0, 0)")
            screenshot(boss, "review-queue", folder=README_SCREENSHOTS, full_page=True)
        row.get_by_role("link", name=second.reference).click()
        boss.wait_for_url(re.compile(rf"/inquiries/{second.pk}/$"))
        wait_for_htmx(boss)
        boss.locator("#escalation").get_by_role("link", name="Return with coaching").click()
        boss.wait_for_url(re.compile(rf"/escalation/inquiries/{second.pk}/return/$"))
        wait_for_htmx(boss)
        expect(boss.locator("#inquiry-h").locator("xpath=..")).to_contain_text(
            "Offered a new installation date; he refused"
        )
        boss.get_by_label("Coaching note").fill(COACHING)
        boss.get_by_role("button", name="Return with the coaching note").click()
        boss.wait_for_url(re.compile(rf"/inquiries/{second.pk}/$"))
        expect(boss.locator("ul.messages")).to_contain_text("Returned to the Rep tier with your coaching note.")
        assert boss_errors == []
    finally:
        context.close()

    # --- rep1 reads the note: on the inquiry and under "My coaching" ---------------------------------
    page.reload()
    wait_for_htmx(page)
    panel = page.locator("#escalation")
    expect(panel).to_contain_text("At the Rep tier for")
    expect(panel.locator("details.ladder-history")).to_have_attribute("open", "")  # nothing open: history first
    expect(panel.locator(".coaching-note")).to_contain_text(COACHING)
    expect(panel.locator(".coaching-note")).to_contain_text("Coaching note for Priya Raman")
    returned = page.locator("ol.timeline > li").filter(has_text="Returned with coaching")
    expect(returned).to_contain_text("Supervisor → Rep")
    expect(returned).to_contain_text("with a coaching note for Priya Raman")
    expect(returned).not_to_contain_text(COACHING)  # the words are never on the timeline
    screenshot(page, "escalation_panel_coached")
    page.get_by_role("link", name="Coaching", exact=True).click()
    page.wait_for_url(re.compile(r"/escalation/coaching/$"))
    wait_for_htmx(page)
    note = page.locator(".coaching-list > li").first
    expect(note).to_contain_text(second.reference)
    expect(note).to_contain_text(COACHING)
    expect(note).to_contain_text("Asha Menon")

    second.refresh_from_db()
    assert (second.tier, second.assignee_id) == (Tier.REP, rep.pk)
    escalation = Escalation.objects.get(inquiry=second)
    assert (escalation.outcome, escalation.coached_user_id, escalation.coach_id) == ("returned", rep.pk, supervisor.pk)
    assert escalation.skip_reason == "He asked for the supervisor by name"
    assert page.js_errors == []
