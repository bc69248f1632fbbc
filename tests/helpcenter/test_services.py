"""Article services: drafting, publishing, the permission rule, the timeline, sanitized HTML."""

from __future__ import annotations

import pytest

from fulfillment.errors import InvalidInput, PermissionDenied, TransitionNotAllowed
from helpcenter import services
from helpcenter.enums import ArticleStatus, EventType
from helpcenter.models import Article, ArticleEvent
from inquiries.enums import Category

from .factories import make_article

pytestmark = pytest.mark.django_db

BODY = "## Refunds\n\nWe refund within **five** days."


def _create(actor, **extra):
    fields = {"title": "Refunds", "category": Category.BILLING, "language": "en", "body": BODY, **extra}
    return services.article_create(actor=actor, **fields)


def test_a_rep_drafts_and_the_timeline_names_them(rep):
    article = _create(rep)
    assert article.status == ArticleStatus.DRAFT
    assert article.slug == "refunds"
    assert article.author == rep
    assert "<strong>five</strong>" in article.body_html
    event = ArticleEvent.objects.get(article=article)
    assert (event.type, event.actor_user, event.actor_name) == (EventType.CREATED, rep, "rep1")


def test_a_rep_may_not_publish_and_nothing_changes(rep):
    article = _create(rep)
    with pytest.raises(PermissionDenied):
        services.article_publish(actor=rep, article=article)
    article.refresh_from_db()
    assert article.status == ArticleStatus.DRAFT and article.published_at is None
    assert ArticleEvent.objects.filter(article=article).count() == 1


@pytest.mark.parametrize("who", ["senior", "specialist", "supervisor"])
def test_seniors_and_above_publish_and_take_down(request, rep, who):
    publisher = request.getfixturevalue(who)
    article = services.article_publish(actor=publisher, article=_create(rep))
    assert article.status == ArticleStatus.PUBLISHED and article.published_at is not None
    article = services.article_unpublish(actor=publisher, article=article)
    assert article.status == ArticleStatus.DRAFT
    types = list(ArticleEvent.objects.filter(article=article).values_list("type", flat=True))
    assert types == [EventType.CREATED, EventType.PUBLISHED, EventType.UNPUBLISHED]


def test_publishing_twice_is_refused(senior):
    article = services.article_publish(actor=senior, article=_create(senior))
    with pytest.raises(TransitionNotAllowed):
        services.article_publish(actor=senior, article=article)


def test_a_rep_edits_a_draft_but_not_a_published_article(rep, senior):
    article = _create(rep)
    article = services.article_update(
        actor=rep, article=article, title="Refunds, explained", category=Category.BILLING, language="en", body=BODY
    )
    assert article.title == "Refunds, explained"
    assert ArticleEvent.objects.filter(article=article, type=EventType.UPDATED).get().details == {"fields": ["title"]}
    services.article_publish(actor=senior, article=article)
    with pytest.raises(PermissionDenied):
        services.article_update(
            actor=rep, article=article, title="Changed", category=Category.BILLING, language="en", body=BODY
        )
    assert Article.objects.get(pk=article.pk).title == "Refunds, explained"


def test_slug_is_unique_per_language_and_translations_share_it(rep):
    _create(rep)
    with pytest.raises(InvalidInput) as error:
        _create(rep)
    assert "slug" in error.value.field_errors
    translation = _create(rep, title="பணம் திரும்ப", slug="refunds", language="ta")
    assert translation.slug == "refunds"


def test_input_is_checked(rep):
    with pytest.raises(InvalidInput) as error:
        _create(rep, title=" ", language="xx", category="nope")
    assert "title" in error.value.field_errors
    with pytest.raises(InvalidInput) as error:
        _create(rep, language="xx")
    assert "language" in error.value.field_errors
    with pytest.raises(InvalidInput) as error:
        _create(rep, body="")
    assert "body" in error.value.field_errors
    assert not Article.objects.exists()


def test_a_user_without_a_role_cannot_draft(no_role_user):
    with pytest.raises(PermissionDenied):
        _create(no_role_user)


def test_votes_count_on_published_articles_only(system_actor):
    article = make_article()
    services.article_vote(actor=system_actor, article=article, helpful=True)
    services.article_vote(actor=system_actor, article=article, helpful=False)
    services.article_vote(actor=system_actor, article=article, helpful=True)
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (2, 1)
