"""Articles made through the services, so they carry their timeline and rendered HTML."""

from __future__ import annotations

import itertools

from fulfillment.actors import Actor
from helpcenter import services
from inquiries.enums import Category

_ACTOR = Actor.system("tests")
_seq = itertools.count(1)


def make_article(
    *,
    title: str | None = None,
    body: str = "Refunds reach your card within five working days.",
    category: str = Category.BILLING,
    language: str = "en",
    slug: str = "",
    published: bool = True,
):
    article = services.article_create(
        actor=_ACTOR,
        title=title or f"How refunds work {next(_seq)}",
        body=body,
        category=category,
        language=language,
        slug=slug,
    )
    if published:
        article = services.article_publish(actor=_ACTOR, article=article)
    return article
