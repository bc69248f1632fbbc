"""Issue 8's flow in a real browser: a customer served in Tamil, from the help center to a rating.

The customer (a browser with no login) opens the help center in Tamil, searches, reads an article
and writes in through the help center's form. The acknowledgement arrives over real SMTP on
loopback with the reference and the status link; the customer opens the link and replies. A rep
(a second browser) sees the reply on the timeline, answers and resolves. The survey sweep and its
job run in-process at an injected time (never a sleep); the survey mail arrives over SMTP, the
customer rates the resolution 2 with a comment, which hands the follow-up call to a senior rep,
and the rep sees the rating and the comment on the inquiry.
"""

from __future__ import annotations

import datetime as dt
import email
import re
from email import policy

import pytest
from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from fulfillment import clock, scheduling
from fulfillment.models import Job
from fulfillment.tiers import Tier
from inquiries.enums import Category, Channel, EventType, FollowUpState, InquiryStatus
from inquiries.models import FollowUpCall, Inquiry
from orders.models import Customer
from portal import services as portal_services
from portal.models import SatisfactionRating
from tests.factories import UserFactory
from tests.helpcenter.factories import make_article
from tests.inquiries.mailkit import LoopbackController, SmtpSink

from .conftest import TIMEOUT_MS, login, resolve_inquiry, screenshot, wait_for_htmx

pytestmark = pytest.mark.browser

ARTICLE_TITLE = "பார்சல் தாமதமானால் என்ன செய்வது"
ARTICLE_BODY = "உங்கள் பார்சல் வரவில்லை என்றால், ஆர்டர் எண்ணுடன் எங்களுக்கு எழுதுங்கள்."
SUBJECT = "பார்சல் வரவில்லை"
MESSAGE = "என் ஆர்டர் பத்து நாட்களாக வரவில்லை. எப்போது வரும்?"
CUSTOMER_REPLY = "ஆர்டர் எண் FD-1042. நான் வீட்டில் இருப்பேன்."
REP_REPLY = "The courier delivers your parcel tomorrow before noon."
COMMENT = "பதில் தாமதமாக வந்தது."
EMAIL = "kavitha@example.com"


def ta(text: str) -> str:
    """``text`` as the Tamil catalogue has it (what the customer's pages must show)."""
    with translation.override("ta"):
        return gettext(text)


@pytest.fixture
def smtp(settings, live_server):
    """Django's mail goes to a real SMTP server on loopback; links in mail point at the live server."""
    sink = SmtpSink()
    controller = LoopbackController(sink)
    controller.start()
    # the live server runs in this process: it reads the same (overridden) settings
    for name, value in {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": controller.port,
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_USE_TLS": False,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 10,
        "FD_SITE_URL": live_server.url,
    }.items():
        setattr(settings, name, value)
    cache.clear()  # the per-address limits of the form, the status page and the survey
    yield sink
    controller.stop()
    cache.clear()


def _mails(sink: SmtpSink) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(raw, policy=policy.default) for raw in sink.messages]


def _text(mail) -> str:
    return mail.get_body(("plain",)).get_content()


def _run_survey_job(inquiry: Inquiry) -> dt.datetime:
    """What beat and a worker do, in this process: the sweep schedules the cycle's survey job; at
    a time after it is due (injected, not waited for) the job is claimed and run. Returns that time."""
    assert portal_services.survey_schedule_due() == 1
    job = Job.objects.get(kind=portal_services.SURVEY_KIND, key=f"portal.survey:{inquiry.pk}:0")
    later = job.due_at + dt.timedelta(seconds=1)
    with clock.frozen(later):
        assert scheduling.claim_due(now=later, ids=[job.pk]) == [job.pk]
        assert scheduling.run_job(job.pk) == "done"
    return later


@pytest.fixture
def desk(live_server, browser, browser_context_args):
    """A second browser (its own cookies) for the rep; closed even when the test fails."""
    context = browser.new_context(**browser_context_args)
    desk = context.new_page()
    desk.set_default_timeout(TIMEOUT_MS)
    desk.set_default_navigation_timeout(TIMEOUT_MS)
    desk.js_errors = []
    desk.on("pageerror", lambda exc: desk.js_errors.append(str(exc)))
    yield desk
    context.close()


def test_a_tamil_customer_finds_help_writes_in_replies_and_rates(live_server, page, desk, smtp):
    rep = UserFactory(username="rep-self-service", tier=Tier.REP, first_name="Priya", last_name="Raman")
    senior = UserFactory(username="senior-self-service", tier=Tier.SENIOR_REP, first_name="Arjun", last_name="Menon")
    make_article(title=ARTICLE_TITLE, body=ARTICLE_BODY, category=Category.DELIVERY, language="ta")
    make_article(title="Refund times", body="Money back on your card.", category=Category.BILLING, language="en")

    assert ta("How can we help?") != "How can we help?"  # the Tamil catalogue is compiled
    # --- 1. the help center in Tamil: search, read, write in -------------------------------------
    page.goto(f"{live_server.url}/help/ta/")
    expect(page.locator("html")).to_have_attribute("lang", "ta")
    expect(page.locator("h1")).to_have_text(ta("How can we help?"))
    expect(page.locator("#help-q")).to_have_attribute("placeholder", ta("Search the help center"))
    screenshot(page, "self_service_1_help_center_ta")

    page.locator("#help-q").fill("பார்சல்")
    page.get_by_role("button", name=ta("Search"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/help/ta/search/\?q="))
    results = page.locator("ul.help-articles li")
    expect(results).to_have_count(1)
    expect(results).to_have_text(ARTICLE_TITLE)
    screenshot(page, "self_service_2_search_ta")
    results.get_by_role("link", name=ARTICLE_TITLE).click()
    expect(page.locator("h1")).to_have_text(ARTICLE_TITLE)

    page.goto(f"{live_server.url}/help/ta/")
    page.get_by_role("link", name=ta("Write to us")).click()
    expect(page).to_have_url(re.compile(r"/help/ta/contact/$"))
    expect(page.locator("h1")).to_have_text(ta("Write to us"))
    wait_for_htmx(page)
    page.get_by_label(ta("Your name")).fill("Kavitha Sundaram")
    page.get_by_label(ta("Your email")).fill(EMAIL)
    page.locator("#id_subject").press_sequentially(SUBJECT)
    expect(page.locator("#suggestions")).to_contain_text(ARTICLE_TITLE)  # suggested as it is typed
    page.locator("#id_body").fill(MESSAGE)
    screenshot(page, "self_service_3_contact_form_ta")
    page.get_by_role("button", name=ta("Send"), exact=True).click()
    expect(page.locator("h1")).to_have_text(ta("Thank you"))

    inquiry = Inquiry.objects.select_related("customer").get(customer__email=EMAIL)
    assert (inquiry.channel, inquiry.subject) == (Channel.WEB, SUBJECT)
    assert inquiry.customer.preferred_language == "ta"
    expect(page.locator("strong.mono")).to_have_text(inquiry.reference)

    # --- 2. the acknowledgement over SMTP, the status link, a reply --------------------------------
    [ack] = _mails(smtp)
    assert ack["To"] == EMAIL
    assert inquiry.reference in ack["Subject"]
    body = _text(ack)
    assert inquiry.reference in body
    status_links = re.findall(rf"{re.escape(live_server.url)}/c/[^/\s]+/", body)
    assert len(status_links) == 1, body
    footer = ta("Follow your inquiry %(ref)s and reply online: %(url)s")  # the mail is in Tamil too
    assert footer % {"ref": inquiry.reference, "url": status_links[0]} in body

    page.goto(status_links[0])
    expect(page.locator("h1")).to_contain_text(inquiry.reference)
    expect(page.locator("h2").first).to_have_text(ta("Conversation"))
    conversation = page.locator("ol.timeline .msg")
    expect(conversation).to_have_count(1)
    expect(conversation.first).to_contain_text(MESSAGE)
    page.get_by_label(ta("Your message")).fill(CUSTOMER_REPLY)
    page.get_by_role("button", name=ta("Send"), exact=True).click()
    expect(page.locator("p.notice")).to_have_text(ta("Thank you: we have your message and will reply soon."))
    expect(conversation).to_have_count(2)
    expect(conversation.nth(1)).to_contain_text(CUSTOMER_REPLY)
    screenshot(page, "self_service_4_status_page_ta")

    # --- 3. the rep, in another browser: the reply on the timeline; answer, resolve ----------------
    login(desk, live_server, rep)
    desk.goto(f"{live_server.url}/inquiries/{inquiry.pk}/")
    expect(desk.locator("h1")).to_contain_text(inquiry.reference)
    timeline = desk.locator("ol.timeline > li")
    expect(timeline.locator(".msg.inbound").filter(has_text=CUSTOMER_REPLY)).to_have_count(1)

    flash = desk.locator("ul.messages")
    wait_for_htmx(desk)
    desk.locator("#reply details").first.locator("textarea").fill(REP_REPLY)
    desk.get_by_role("button", name="Send reply").click()
    expect(flash).to_contain_text("Reply sent.")
    expect(timeline.locator(".msg.outbound").filter(has_text=REP_REPLY)).to_have_count(1)

    resolve_inquiry(desk, reason="Courier confirmed delivery for tomorrow")
    screenshot(desk, "self_service_5_rep_resolved")

    reply_mail = [m for m in _mails(smtp) if REP_REPLY in _text(m)]
    assert len(reply_mail) == 1 and reply_mail[0]["To"] == EMAIL

    # --- 4. the survey: sweep and job at an injected time; the mail over SMTP; a rating of 2 --------
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.RESOLVED
    later = _run_survey_job(inquiry)
    # The customer answers after the survey went out: the live server reads the same clock.
    with clock.frozen(later):
        [survey] = [m for m in _mails(smtp) if "/rate/" in _text(m)]
        assert survey["To"] == EMAIL
        with translation.override("ta"):
            # .strip(): Python folds a long encoded subject onto the next line and reads the fold back as a space
            assert survey["Subject"].strip() == gettext("[%(ref)s] How did we do?") % {"ref": inquiry.reference}
        rate_links = re.findall(rf"{re.escape(live_server.url)}/c/[^/\s]+/rate/(\d)/", _text(survey))
        assert rate_links == ["1", "2", "3", "4", "5"]
        [two] = re.findall(rf"{re.escape(live_server.url)}/c/[^/\s]+/rate/2/", _text(survey))

        page.goto(two)
        expect(page.locator("h1")).to_have_text(ta("How did we do?"))
        expect(page.locator("input[name=score][value='2']")).to_be_checked()
        assert not SatisfactionRating.objects.exists()  # the link only asks to confirm
        page.get_by_label(ta("Anything you would like to tell us?")).fill(COMMENT)
        screenshot(page, "self_service_6_rate_ta")
        page.get_by_role("button", name=ta("Send my rating")).click()
        expect(page.locator("h1")).to_have_text(ta("Thank you for your rating"))
        expect(page.locator(".public")).to_contain_text(
            ta("We are sorry we did not do better. A senior member of our team will call you soon.")
        )
        screenshot(page, "self_service_7_rated_ta")

        # --- 5. the rep sees the rating and the comment -------------------------------------------------
        desk.reload()
        panel = desk.locator("#customer-portal")
        expect(panel).to_contain_text("Rated 2 of 5")
        expect(panel).to_contain_text(COMMENT)
        # the survey, the rating, and the follow-up call handed to the senior rep, in that order
        expect(timeline.locator("strong").filter(has_text=re.compile(r"survey|rated|Follow-up"))).to_have_text(
            [
                "Follow-up call scheduled",  # on resolving, to the rep
                "Satisfaction survey sent",
                "Customer rated the resolution",
                "Follow-up call scheduled",  # the low rating: to the senior rep, due now
            ]
        )
        screenshot(desk, "self_service_8_rep_sees_rating")

        # --- what the database holds ---------------------------------------------------------------------
        rating = SatisfactionRating.objects.get()
        assert (rating.inquiry_id, rating.cycle, rating.score, rating.comment) == (inquiry.pk, 0, 2, COMMENT)
        assert inquiry.events.filter(type=EventType.RATING_RECEIVED).count() == 1
        call = FollowUpCall.objects.get(inquiry=inquiry)
        assert (call.assignee, call.state, call.due_at) == (senior, FollowUpState.DUE, later)
        assert rating.created_at == later
        assert Customer.objects.filter(email=EMAIL).count() == 1
        assert page.js_errors == [] and desk.js_errors == []
