"""The public help center: no login, five languages, English fallback, search, votes."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from helpcenter import public, services
from inquiries.enums import Category

from .factories import make_article

pytestmark = pytest.mark.django_db
LANGUAGES = [code for code, _name in settings.LANGUAGES]


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_public_page_renders_in_every_language(client, lang):
    article = make_article(title="Refund times", slug="refund-times", body="Refunds take **five** days.")
    pages = [
        f"/help/{lang}/",
        f"/help/{lang}/category/{Category.BILLING}/",
        f"/help/{lang}/search/?q=refund",
        f"/help/{lang}/search/",
        f"/help/{lang}/a/{article.slug}/",
        f"/help/{lang}/suggest/?q=refund",
        f"/help/{lang}/contact/",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Content-Language"] == lang, path
    assert f'<html lang="{lang}">' in client.get(f"/help/{lang}/").content.decode()


def test_help_root_follows_the_visitor_language(client):
    assert client.get("/help/", HTTP_ACCEPT_LANGUAGE="ta")["Location"] == "/help/ta/"
    assert client.get("/help/")["Location"] == "/help/en/"


def test_unknown_language_category_or_article_is_404(client):
    assert client.get("/help/xx/").status_code == 404
    assert client.get("/help/en/category/nope/").status_code == 404
    assert client.get("/help/en/a/nope/").status_code == 404


def test_readers_see_their_language_with_english_fallback(client):
    make_article(title="Refund times", slug="refund-times")
    make_article(title="பணம் திரும்பும் நேரம்", slug="refund-times", language="ta")
    make_article(title="Delivery areas", slug="delivery-areas")
    make_article(title="Draft only", slug="draft-only", published=False)
    page = client.get(f"/help/ta/category/{Category.BILLING}/").content.decode()
    assert "பணம் திரும்பும் நேரம்" in page and "Refund times" not in page
    assert "Delivery areas" in page and "Draft only" not in page
    page = client.get("/help/hi/a/refund-times/").content.decode()
    assert "Refund times" in page and 'lang="en"' in page
    assert client.get("/help/ta/a/refund-times/").context["article"].language == "ta"
    assert client.get("/help/en/a/draft-only/").status_code == 404


def test_the_switcher_links_the_same_page_in_every_language(client):
    make_article(slug="refund-times")
    page = client.get("/help/en/a/refund-times/").content.decode()
    for code in LANGUAGES[1:]:
        assert f'href="/help/{code}/a/refund-times/"' in page


def test_search_finds_published_articles_in_the_reader_language(client):
    make_article(title="Refund times", body="Money back on your card.")
    make_article(title="Delivery areas", body="We ship everywhere.", category=Category.DELIVERY)
    make_article(title="Refund draft", published=False)
    make_article(title="பணம் திரும்ப", body="refund in Tamil", language="ta")
    results = client.get("/help/en/search/?q=refund").context["results"]
    assert [a.title for a in results] == ["Refund times"]
    results = client.get("/help/ta/search/?q=refund").context["results"]
    assert sorted(a.title for a in results) == ["Refund times", "பணம் திரும்ப"]
    assert client.get("/help/en/search/?q=card+money").context["results"][0].title == "Refund times"
    assert client.get("/help/en/search/?q=%27%26%7C%21()").context["results"] == []


def test_search_escapes_the_query(client):
    response = client.get("/help/en/search/?q=<script>alert(1)</script>")
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.content.decode()


def test_one_vote_per_article_per_session(client):
    article = make_article()
    client.get(f"/help/en/a/{article.slug}/")
    assert client.post(f"/help/en/a/{article.slug}/vote/", {"helpful": "yes"}).status_code == 302
    assert client.post(f"/help/en/a/{article.slug}/vote/", {"helpful": "no"}).status_code == 302
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (1, 0)
    assert "Thank you for your feedback." in client.get(f"/help/en/a/{article.slug}/").content.decode()
    other = Client()
    other.post(f"/help/en/a/{article.slug}/vote/", {"helpful": "no"}, HTTP_HX_REQUEST="true")
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (1, 1)


def test_a_vote_needs_a_csrf_token():
    article = make_article()
    client = Client(enforce_csrf_checks=True)
    assert client.post(f"/help/en/a/{article.slug}/vote/", {"helpful": "yes"}).status_code == 403
    article.refresh_from_db()
    assert article.helpful_yes == 0


def test_a_bad_vote_is_400_and_a_vote_on_a_draft_404(client):
    article = make_article()
    assert client.post(f"/help/en/a/{article.slug}/vote/", {"helpful": "maybe"}).status_code == 400
    draft = make_article(published=False)
    assert client.post(f"/help/en/a/{draft.slug}/vote/", {"helpful": "yes"}).status_code == 404
    assert client.get(f"/help/en/a/{article.slug}/vote/").status_code == 405
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (0, 0)


def test_votes_are_rate_limited_per_address(monkeypatch):
    monkeypatch.setattr(public, "VOTE_RATE", 3)
    articles = [make_article() for _ in range(4)]
    for article in articles[:3]:
        assert Client().post(f"/help/en/a/{article.slug}/vote/", {"helpful": "yes"}).status_code == 302
    response = Client().post(f"/help/en/a/{articles[3].slug}/vote/", {"helpful": "yes"})
    assert response.status_code == 429
    articles[3].refresh_from_db()
    assert articles[3].helpful_yes == 0
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert other.post(f"/help/en/a/{articles[3].slug}/vote/", {"helpful": "yes"}).status_code == 302


def test_suggestions_are_at_most_five_and_rate_limited(client, monkeypatch):
    for i in range(7):
        make_article(title=f"Refund question {i}")
    make_article(title="Draft refund", published=False)
    response = client.get("/help/en/suggest/?q=refu")  # an unfinished word matches
    assert response.status_code == 200
    assert len(response.context["articles"]) == 5
    assert "Draft refund" not in response.content.decode()
    assert client.get("/help/en/suggest/?q=re").context["articles"] == []
    monkeypatch.setattr(public, "SUGGEST_RATE", 2)
    cache.clear()
    client.get("/help/en/suggest/?q=refund")
    client.get("/help/en/suggest/?q=refund")
    assert client.get("/help/en/suggest/?q=refund").status_code == 429


@pytest.mark.parametrize(
    "path,expected",
    [
        # the categories with counts; the session is not touched by a reader who has not voted
        ("/help/ta/", 1),
        ("/help/ta/category/billing/", 1),  # the page of articles (translations as a subquery)
        ("/help/ta/search/?q=refund", 1),
        ("/help/ta/suggest/?q=refund", 1),
    ],
)
def test_public_pages_make_constant_queries(client, path, expected, django_assert_num_queries):
    made = iter(range(100))

    def make(n):
        for _ in range(n):
            i = next(made)
            make_article(title=f"Refund help {i}")
            make_article(title=f"ரீஃபண்ட் refund {i}", language="ta")

    make(2)
    with django_assert_num_queries(expected):
        client.get(path)
    make(20)
    cache.clear()
    with django_assert_num_queries(expected):
        client.get(path)


def test_the_article_page_queries_are_constant(client, django_assert_num_queries):
    article = make_article(slug="the-one")
    client.get("/help/en/")  # no session yet: the first article read starts one
    client.get("/help/ta/a/the-one/")
    #: the session; the article (its language, else English); the view, kept once per session
    with django_assert_num_queries(3):
        client.get("/help/ta/a/the-one/")
    for _ in range(20):
        services.article_vote(actor=public.Actor.system("t"), article=article, helpful=True)
        make_article()
    with django_assert_num_queries(3):
        client.get("/help/ta/a/the-one/")
