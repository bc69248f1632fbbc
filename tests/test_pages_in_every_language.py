"""Every staff and public page renders in each of the five languages, in that language.

A staff member's saved language chooses the staff pages' language; a visitor's Accept-Language
chooses the public pages'. Each page must answer 200, say its language in <html lang>, and — for
the four translated languages — show the header's words translated (the catalogue is in use,
not an English fallback). A template that breaks in one language (a bad placeholder in a
translation, a filter that chokes on a script) fails here.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from fulfillment.actors import Actor
from inquiries import services
from portal import services as portal
from portal.enums import LinkPurpose
from tests.factories import CustomerFactory, OrderFactory
from tests.helpcenter.factories import make_article
from tests.inquiries.factories import InquiryFactory

LANGUAGES = [code for code, _name in settings.LANGUAGES]

#: Staff pages, by a format string over the objects the fixture makes.
STAFF_PAGES = [
    "/orders/",
    "/orders/{order}/",
    "/customers/",
    "/customers/new/",
    "/customers/{customer}/",
    "/customers/{customer}/edit/",
    "/customers/{customer}/orders/new/",
    "/search/?q=Kavya",
    "/inquiries/",
    "/inquiries/?queue=team",
    "/inquiries/search/?q=parcel",
    "/inquiries/call/",
    "/inquiries/new/{customer}/",
    "/inquiries/calls-due/",
    "/inquiries/calls-due/?view=team",
    "/inquiries/{inquiry}/",
    "/escalation/review/",
    "/escalation/review/approvals/",
    "/escalation/coaching/",
    "/notifications/",
    "/operations/",
    "/help/staff/articles/",
    "/help/staff/articles/new/",
    "/help/staff/articles/{article}/",
    "/help/staff/reports/",
    "/help/staff/from-inquiry/{inquiry}/",
    "/reports/",
    "/reports/?preset=last_week&category=billing",
    "/reports/weekly/",
]
PUBLIC_PAGES = ["/accounts/login/", "/contact/"]
#: The help center's language is in its address; the customer's pages speak the customer's.
HELP_PAGES = [
    "/help/{lang}/",
    "/help/{lang}/search/?q=refund",
    "/help/{lang}/category/billing/",
    "/help/{lang}/a/{slug}/",
    "/help/{lang}/contact/",
]


@pytest.fixture
def world(supervisor):
    customer = CustomerFactory(name="Kavya Iyer", phone="+91 98400 12345")
    order = OrderFactory(customer=customer)
    inquiry = InquiryFactory(customer=customer, subject="Where is my parcel?", orders=[order])
    actor = Actor.for_user(supervisor)
    services.reply_send(actor=actor, inquiry=inquiry, body="We are looking into it.")
    services.inquiry_set_status(actor=actor, inquiry=inquiry, status="resolved")  # a follow-up call too
    article = make_article(title="How refunds work", slug="how-refunds-work")
    return {"order": order.number, "customer": customer.pk, "inquiry": inquiry.pk, "article": article.pk}


def _translated(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def _check(response, language: str, url: str, word: str) -> None:
    assert response.status_code == 200, f"{url} in {language}: {response.status_code}"
    html = response.content.decode()
    assert f'<html lang="{language}"' in html, f"{url} in {language}: no lang attribute"
    if language != "en":
        expected = _translated(language, word)
        assert expected != word, f"the {language} catalogue has no translation of {word!r}"
        assert expected in html, f"{url} in {language}: {expected!r} not on the page"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_staff_page_renders_in_the_staff_members_language(world, supervisor, language):
    supervisor.language = language
    supervisor.save(update_fields=["language"])
    client = Client()
    client.force_login(supervisor)
    for page in STAFF_PAGES:
        url = page.format(**world)
        _check(client.get(url), language, url, "Log out")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_public_page_renders_in_the_visitors_language(db, language):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    for url in PUBLIC_PAGES:
        _check(client.get(url), language, url, "Send" if url == "/contact/" else "Log in")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_help_center_page_renders_in_its_language(world, language):
    client = Client()
    for page in HELP_PAGES:
        url = page.format(lang=language, slug="how-refunds-work")  # an English article: the fallback
        _check(client.get(url), language, url, "Search the help center")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_customers_status_and_survey_pages_render_in_the_customers_language(world, language):
    from inquiries.models import Inquiry

    inquiry = Inquiry.objects.select_related("customer").get(pk=world["inquiry"])
    inquiry.customer.preferred_language = language
    inquiry.customer.save(update_fields=["preferred_language"])
    system = Actor.system("tests")
    _link, status = portal.link_issue(actor=system, inquiry=inquiry)
    _link, survey = portal.link_issue(actor=system, inquiry=inquiry, purpose=LinkPurpose.SURVEY, cycle=0)
    client = Client()
    for url, word in ((f"/c/{status}/", "Conversation"), (f"/c/{survey}/rate/5/", "How did we do?")):
        _check(client.get(url), language, url, word)
