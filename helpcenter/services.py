"""Every change to the help center: articles written, published, taken down, and readers' votes.

Keyword-only, ``actor`` always passed, one transaction, the row locked, a timeline event with
its actor, domain errors from the kernel.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.text import slugify
from django.utils.translation import gettext as _

from fulfillment import clock
from fulfillment.actors import Actor, as_actor
from fulfillment.errors import InvalidInput, NotFound, TransitionNotAllowed
from fulfillment.permissions import require
from inquiries.enums import Category
from inquiries.models import Inquiry
from inquiries.services._common import clean_body, clean_text

from . import events, markdown
from . import permissions as perms
from .enums import ArticleStatus
from .models import Article, ArticleView, WebInquiry

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


def _lock(article: Article | int) -> Article:
    pk = article.pk if isinstance(article, Article) else article
    try:
        return Article.objects.select_for_update().get(pk=pk)
    except Article.DoesNotExist:
        raise NotFound(_("This article does not exist.")) from None


def _clean(*, title: str, slug: str, category: str, language: str, body: str) -> dict:
    title = clean_text(title, "title", 200, required=True)
    slug = slugify(clean_text(slug, "slug", 200) or title, allow_unicode=True)[:200]
    if not slug:
        raise InvalidInput(field_errors={"slug": [_("Use letters, digits or hyphens.")]})
    if category not in Category.values:
        raise InvalidInput(field_errors={"category": [_("Choose one of the offered values.")]})
    if language not in LANGUAGE_CODES:
        raise InvalidInput(field_errors={"language": [_("Choose one of the offered values.")]})
    body = clean_body(body)
    return {"title": title, "slug": slug, "category": category, "language": language, "body": body}


def _check_slug_free(*, slug: str, language: str, exclude: int | None = None) -> None:
    taken = Article.objects.filter(slug=slug, language=language)
    if exclude:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise InvalidInput(field_errors={"slug": [_("Another article in this language has this slug.")]})


def article_create(
    *,
    actor: Actor,
    title: str,
    category: str,
    language: str,
    body: str,
    slug: str = "",
    source_inquiry: Inquiry | None = None,
) -> Article:
    """A new draft. Reps may draft; publishing is ``article_publish``."""
    actor = as_actor(actor)
    require(actor, perms.DRAFT)
    data = _clean(title=title, slug=slug, category=category, language=language, body=body)
    now = clock.now()
    with transaction.atomic():
        _check_slug_free(slug=data["slug"], language=data["language"])
        article = Article.objects.create(
            **data,
            body_html=markdown.render(data["body"]),
            status=ArticleStatus.DRAFT,
            author=actor.user,
            source_inquiry=source_inquiry,
            created_at=now,
            updated_at=now,
        )
        events.created(article, actor)
    return article


def article_update(
    *, actor: Actor, article: Article, title: str, category: str, language: str, body: str, slug: str = ""
) -> Article:
    """New words for an article. A published one changes live, so only a publisher edits it.
    An empty ``slug`` keeps the article's address (links to it keep working)."""
    actor = as_actor(actor)
    require(actor, perms.DRAFT)
    with transaction.atomic():
        article = _lock(article)
        data = _clean(title=title, slug=slug or article.slug, category=category, language=language, body=body)
        if article.is_published:
            require(actor, perms.PUBLISH)
        _check_slug_free(slug=data["slug"], language=data["language"], exclude=article.pk)
        changed = [name for name, value in data.items() if getattr(article, name) != value]
        if not changed:
            return article
        for name in changed:
            setattr(article, name, data[name])
        article.body_html = markdown.render(article.body)
        article.updated_at = clock.now()
        article.save(update_fields=[*changed, "body_html", "updated_at"])
        events.updated(article, actor, fields=changed)
    return article


def _move(*, actor: Actor, article: Article, to: str) -> Article:
    actor = as_actor(actor)
    require(actor, perms.PUBLISH)
    with transaction.atomic():
        article = _lock(article)
        if article.status == to:
            raise TransitionNotAllowed(
                current=article.status,
                requested=to,
                allowed=set(ArticleStatus.values) - {to},
                labels=dict(ArticleStatus.choices),
            )
        now = clock.now()
        article.status = to
        article.updated_at = now
        fields = ["status", "updated_at"]
        if to == ArticleStatus.PUBLISHED:
            article.published_at = now
            fields.append("published_at")
            events.published(article, actor)
        else:
            events.unpublished(article, actor)
        article.save(update_fields=fields)
    return article


def article_publish(*, actor: Actor, article: Article) -> Article:
    return _move(actor=actor, article=article, to=ArticleStatus.PUBLISHED)


def article_unpublish(*, actor: Actor, article: Article) -> Article:
    return _move(actor=actor, article=article, to=ArticleStatus.DRAFT)


def article_vote(*, actor: Actor, article: Article, helpful: bool) -> None:
    """A reader's "Was this helpful?". The public view keeps one vote per article per session;
    the counter moves in the database (``F()``), so concurrent votes are all counted."""
    actor = as_actor(actor)
    with transaction.atomic():
        updated = Article.objects.filter(pk=article.pk, status=ArticleStatus.PUBLISHED).update(
            **({"helpful_yes": F("helpful_yes") + 1} if helpful else {"helpful_no": F("helpful_no") + 1})
        )
    if not updated:
        raise NotFound(_("This article does not exist."))


def article_viewed(*, article: Article, session_key: str) -> None:
    """A reader's session opened ``article`` (kept once per session: the first time counts).
    Readers are anonymous, so no actor and no timeline event: this is a statistic."""
    ArticleView.objects.bulk_create(
        [ArticleView(article=article, session_key=session_key, viewed_at=clock.now())], ignore_conflicts=True
    )


def web_inquiry_record(*, inquiry: Inquiry, session_key: str) -> WebInquiry:
    """The help center's form created ``inquiry`` in this browser session."""
    return WebInquiry.objects.create(inquiry=inquiry, session_key=session_key, created_at=clock.now())
