"""Article timeline events: one small function per event type, called only by services inside
their transaction."""

from __future__ import annotations

from fulfillment.actors import Actor

from .enums import EventType
from .models import Article, ArticleEvent


def _event(article: Article, actor: Actor, type_: str, **details) -> ArticleEvent:
    return ArticleEvent.objects.create(article=article, type=type_, details=details, **actor.event_fields())


def created(article: Article, actor: Actor) -> ArticleEvent:
    details = {"title": article.title, "language": article.language}
    if article.source_inquiry_id:
        details["source_inquiry"] = article.source_inquiry_id
    return _event(article, actor, EventType.CREATED, **details)


def updated(article: Article, actor: Actor, *, fields: list[str]) -> ArticleEvent:
    return _event(article, actor, EventType.UPDATED, fields=fields)


def published(article: Article, actor: Actor) -> ArticleEvent:
    return _event(article, actor, EventType.PUBLISHED)


def unpublished(article: Article, actor: Actor) -> ArticleEvent:
    return _event(article, actor, EventType.UNPUBLISHED)
