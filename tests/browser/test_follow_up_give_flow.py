"""Giving a follow-up call in a real browser: a senior rep opens the team's calls due, gives a
rep's due call to a colleague from the row, and the colleague finds it in "My calls"."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fulfillment.models import Notification
from fulfillment.tiers import Tier
from inquiries.models import FollowUpCall
from tests.factories import UserFactory
from tests.inquiries.test_follow_ups_views import _due_call

from .conftest import login, screenshot, wait_for_htmx

pytestmark = pytest.mark.browser


def test_a_senior_gives_a_due_call_to_a_colleague(live_server, page):
    rep = UserFactory(username="rep1", first_name="Ravi", last_name="Kumar", tier=Tier.REP)
    colleague = UserFactory(username="rep2", first_name="Ana", last_name="Reyes", tier=Tier.REP)
    senior = UserFactory(username="senior1", first_name="Sita", last_name="Das", tier=Tier.SENIOR_REP)
    call = _due_call(rep)

    login(page, live_server, senior)
    page.goto(f"{live_server.url}/inquiries/calls-due/?view=team")
    row = page.locator(f"#follow-up-{call.pk}")
    expect(row).to_contain_text(call.inquiry.reference)
    give = row.locator("form.follow-up-give")
    give.get_by_label("Give to").select_option(label=f"Ana Reyes · {Tier.REP.label}")
    screenshot(page, "follow-up-give-team-view", full_page=False)
    give.get_by_role("button", name="Give the call").click()
    expect(page.locator("ul.messages")).to_contain_text(
        f"{call.inquiry.reference}: the follow-up call is now Ana Reyes's."
    )
    expect(page.locator(f"#follow-up-{call.pk}")).to_contain_text("rep2")
    assert page.js_errors == []

    call.refresh_from_db()
    assert call.assignee == colleague
    assert Notification.objects.filter(recipient=colleague, key__startswith=f"follow-up:{call.pk}:").exists()

    # the colleague finds it in their own calls, with the outcome form
    page.context.clear_cookies()
    login(page, live_server, colleague)
    page.goto(f"{live_server.url}/inquiries/calls-due/")
    wait_for_htmx(page)
    mine = page.locator(f"#follow-up-{call.pk}")
    expect(mine).to_contain_text(call.inquiry.reference)
    expect(mine.locator("form.follow-up-form")).to_be_visible()
    expect(mine.locator("form.follow-up-give")).to_have_count(0)  # a rep does not give calls
    assert FollowUpCall.objects.get(pk=call.pk).assignee == colleague
