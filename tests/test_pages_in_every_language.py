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
from tests.factories import CustomerFactory, OrderFactory
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
]
PUBLIC_PAGES = ["/accounts/login/", "/contact/"]


@pytest.fixture
def world(supervisor):
    customer = CustomerFactory(name="Kavya Iyer", phone="+91 98400 12345")
    order = OrderFactory(customer=customer)
    inquiry = InquiryFactory(customer=customer, subject="Where is my parcel?", orders=[order])
    actor = Actor.for_user(supervisor)
    services.reply_send(actor=actor, inquiry=inquiry, body="We are looking into it.")
    services.inquiry_set_status(actor=actor, inquiry=inquiry, status="resolved")  # a follow-up call too
    return {"order": order.number, "customer": customer.pk, "inquiry": inquiry.pk}


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
