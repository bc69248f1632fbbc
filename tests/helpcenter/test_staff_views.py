"""Staff pages: login and a role; reps draft, seniors publish; "Turn into FAQ" from an inquiry."""

from __future__ import annotations

import pytest
from django.test import Client

from helpcenter.enums import ArticleStatus
from helpcenter.models import Article
from inquiries import services as inquiry_services
from inquiries.enums import Category, InquiryStatus

from ..inquiries.factories import InquiryFactory
from .factories import make_article

pytestmark = pytest.mark.django_db

FORM = {
    "title": "Where is my refund?",
    "slug": "",
    "category": Category.BILLING,
    "language": "en",
    "body": "Five days.",
}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", ["/help/staff/articles/", "/help/staff/articles/new/"])
def test_anonymous_is_sent_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_user_without_a_role_is_refused(no_role_user):
    assert _client(no_role_user).get("/help/staff/articles/").status_code == 403
    assert _client(no_role_user).post("/help/staff/articles/new/", FORM).status_code == 403
    assert not Article.objects.exists()


def test_a_rep_saves_a_draft_and_may_not_publish(rep):
    client = _client(rep)
    response = client.post("/help/staff/articles/new/", FORM)
    article = Article.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/help/staff/articles/{article.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "A senior rep or above publishes drafts." in page and 'value="publish"' not in page
    response = client.post(f"/help/staff/articles/{article.pk}/status/", {"action": "publish"})
    assert response.status_code == 403
    article.refresh_from_db()
    assert article.status == ArticleStatus.DRAFT


def test_a_senior_publishes_and_takes_down(senior):
    client = _client(senior)
    client.post("/help/staff/articles/new/", FORM)
    article = Article.objects.get()
    assert 'value="publish"' in client.get(f"/help/staff/articles/{article.pk}/").content.decode()
    client.post(f"/help/staff/articles/{article.pk}/status/", {"action": "publish"})
    article.refresh_from_db()
    assert article.status == ArticleStatus.PUBLISHED
    client.post(f"/help/staff/articles/{article.pk}/status/", {"action": "unpublish"})
    article.refresh_from_db()
    assert article.status == ArticleStatus.DRAFT


def test_bad_input_is_a_form_error_not_a_500(rep):
    response = _client(rep).post("/help/staff/articles/new/", {**FORM, "title": "", "language": "xx"})
    assert response.status_code == 400
    assert response.context["form"].errors.keys() == {"title", "language"}
    make_article(title="Taken", slug="taken")
    response = _client(rep).post("/help/staff/articles/new/", {**FORM, "slug": "taken"})
    assert response.status_code == 400 and "slug" in response.context["form"].errors


def test_preview_renders_sanitized_without_saving(rep):
    response = _client(rep).post(
        "/help/staff/articles/new/", {**FORM, "body": "**bold** <script>x()</script>", "preview": "1"}
    )
    assert response.status_code == 200
    assert "<strong>bold</strong>" in response.content.decode()
    assert "<script>x()" not in response.content.decode()
    assert not Article.objects.exists()


def test_the_list_shows_articles_and_filters_by_status(rep):
    make_article(title="Live one")
    make_article(title="Draft one", published=False)
    client = _client(rep)
    page = client.get("/help/staff/articles/").content.decode()
    assert "Live one" in page and "Draft one" in page
    page = client.get("/help/staff/articles/?status=draft").content.decode()
    assert "Live one" not in page and "Draft one" in page


def test_list_queries_are_constant(rep, django_assert_num_queries):
    client = _client(rep)
    for _ in range(2):
        make_article()
    client.get("/help/staff/articles/")
    with django_assert_num_queries(3):  # session, user, the page of articles with their authors
        client.get("/help/staff/articles/")
    for _ in range(20):
        make_article()
    with django_assert_num_queries(3):
        client.get("/help/staff/articles/")


def test_turn_into_faq_prefills_from_a_resolved_inquiry(rep, senior):
    inquiry = InquiryFactory(subject="Refund not on my card", category=Category.BILLING, assignee=rep)
    inquiry_services.reply_send(actor=rep, inquiry=inquiry, body="Refunds take five working days to show.")
    client = _client(rep)
    detail = client.get(f"/inquiries/{inquiry.pk}/").content.decode()
    assert "Turn into FAQ" not in detail  # not resolved yet
    assert client.get(f"/help/staff/from-inquiry/{inquiry.pk}/").status_code == 302
    inquiry_services.inquiry_set_status(actor=rep, inquiry=inquiry, status=InquiryStatus.RESOLVED)
    detail = client.get(f"/inquiries/{inquiry.pk}/").content.decode()
    assert f'href="/help/staff/from-inquiry/{inquiry.pk}/"' in detail
    response = client.get(f"/help/staff/from-inquiry/{inquiry.pk}/")
    form = response.context["form"]
    assert form.initial["title"] == "Refund not on my card"
    assert form.initial["category"] == Category.BILLING
    assert "Refunds take five working days to show." in form.initial["body"]
    response = client.post(
        f"/help/staff/from-inquiry/{inquiry.pk}/",
        {**FORM, "title": "Refund not on my card", "body": "Refunds take five working days."},
    )
    article = Article.objects.get()
    assert article.source_inquiry == inquiry and article.status == ArticleStatus.DRAFT


def test_turn_into_faq_of_an_unknown_inquiry_is_404(rep):
    assert _client(rep).get("/help/staff/from-inquiry/999999/").status_code == 404
