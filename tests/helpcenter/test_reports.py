"""Reports: FAQ candidates, and articles whose readers still write in."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import Client

from fulfillment import clock
from helpcenter import selectors
from inquiries.enums import Category

from ..inquiries.factories import InquiryFactory
from .factories import make_article

pytestmark = pytest.mark.django_db
FORM = {"name": "Ann Lee", "email": "ann@example.com", "subject": "Still no refund", "body": "Help"}


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_faq_candidates_are_recent_categories_without_a_published_article():
    now = clock.now()
    with clock.frozen(now - dt.timedelta(days=120)):
        InquiryFactory(category=Category.RETURN, subject="Old return label")  # too old to count
    for subject in ["Damaged parcel box", "Parcel box crushed", "Parcel late"]:
        InquiryFactory(category=Category.DELIVERY, subject=subject)
    InquiryFactory(category=Category.PRODUCT, subject="Which charger fits?")
    InquiryFactory(category=Category.BILLING, subject="Refund missing")
    make_article(category=Category.BILLING)  # billing has an article
    make_article(category=Category.PRODUCT, published=False)  # a draft does not count
    rows = selectors.faq_candidates()
    assert [(r["category"], r["inquiries"]) for r in rows] == [(Category.DELIVERY, 3), (Category.PRODUCT, 1)]
    assert rows[0]["words"][:2] == [("parcel", 3), ("box", 2)]
    assert rows[1]["words"] == [("charger", 1), ("fits", 1), ("which", 1)]


def test_articles_whose_readers_still_write_in():
    helpful = make_article(title="Refund times")
    unhelpful = make_article(title="Returns policy")
    reader = Client()
    reader.get(f"/help/en/a/{unhelpful.slug}/")
    reader.post("/help/en/contact/", FORM)  # read, then wrote in
    satisfied = Client()
    satisfied.get(f"/help/en/a/{helpful.slug}/")
    satisfied.get(f"/help/en/a/{unhelpful.slug}/")
    wrote_first = Client(REMOTE_ADDR="10.0.0.2")
    wrote_first.post("/help/en/contact/", {**FORM, "email": "bo@example.com"})
    wrote_first.get(f"/help/en/a/{helpful.slug}/")  # read only after writing: not counted
    rows = selectors.articles_readers_still_ask()
    assert [(r["title"], r["readers"], r["still_asked"], r["share"]) for r in rows] == [("Returns policy", 2, 1, 50)]


def test_the_reports_page_is_for_seniors(rep, senior, client):
    assert client.get("/help/staff/reports/").status_code == 302
    assert _client(rep).get("/help/staff/reports/").status_code == 403
    InquiryFactory(category=Category.DELIVERY, subject="Parcel late")
    page = _client(senior).get("/help/staff/reports/").content.decode()
    assert "Delivery" in page and "parcel" in page


def test_the_reports_page_queries_are_constant(senior, django_assert_num_queries):
    client = _client(senior)

    def make(n):
        for i in range(n):
            InquiryFactory(category=Category.DELIVERY if i % 2 else Category.PRODUCT, subject=f"Parcel {i} late")
            article = make_article()
            reader = Client(REMOTE_ADDR=f"10.1.{n}.{i}")
            reader.get(f"/help/en/a/{article.slug}/")
            reader.post("/help/en/contact/", {**FORM, "email": f"r{n}-{i}@example.com"})

    make(2)
    #: session, user; candidate categories; their words; the articles with readers who wrote in
    with django_assert_num_queries(5):
        client.get("/help/staff/reports/")
    make(12)
    with django_assert_num_queries(5):
        client.get("/help/staff/reports/")
