"""Reads of the help center: what the public sees in a language, search, the staff lists.

Language: a reader sees the articles in their language, and the English article wherever a
slug has no translation in it (English is the fallback).

Search on PostgreSQL uses a stored tsvector column (migration 0002): the English articles parsed
with the 'english' configuration (stems: "refunds" finds "refund"), the others with 'simple'
(PostgreSQL ships no Tamil, Filipino, Bengali or Hindi stemmer), title weighted above body, and
a GIN index on it over published articles. SQLite (the embedded default) matches every word with
a plain containment.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import BooleanField, Exists, FloatField, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from inquiries.enums import MessageKind
from inquiries.models import Inquiry, Message

from .enums import ArticleStatus
from .models import Article

FALLBACK = "en"
SEARCH_LIMIT = 20
SUGGEST_LIMIT = 5
#: Characters that mean something in tsquery syntax; the reader's words never carry them in.
_TSQUERY_SYNTAX = str.maketrans(dict.fromkeys("&|!():*'\\<>\"-", " "))
LIST_FIELDS = ("id", "title", "slug", "category", "language", "published_at")


def published(*, language: str) -> QuerySet[Article]:
    """Published articles for a reader of ``language``: theirs, and English where theirs is missing."""
    live = Article.objects.filter(status=ArticleStatus.PUBLISHED)
    if language == FALLBACK:
        return live.filter(language=FALLBACK)
    translated = live.filter(language=language, slug=OuterRef("slug"))
    return live.filter(Q(language=language) | (Q(language=FALLBACK) & ~Exists(translated)))


def category_counts(*, language: str) -> dict[str, int]:
    from django.db.models import Count

    rows = published(language=language).order_by().values("category").annotate(n=Count("id"))
    return {row["category"]: row["n"] for row in rows}


def article_list(*, language: str, category: str = "") -> QuerySet[Article]:
    queryset = published(language=language).only(*LIST_FIELDS).order_by("title", "id")
    if category:
        queryset = queryset.filter(category=category)
    return queryset


def article_for_reader(*, slug: str, language: str) -> Article | None:
    """The published article ``slug`` in ``language``, else in English (one query)."""
    candidates = list(
        Article.objects.filter(status=ArticleStatus.PUBLISHED, slug=slug, language__in={language, FALLBACK})
    )
    candidates.sort(key=lambda a: a.language != language)
    return candidates[0] if candidates else None


def translations(*, slug: str) -> set[str]:
    return set(Article.objects.filter(status=ArticleStatus.PUBLISHED, slug=slug).values_list("language", flat=True))


def _tsquery(q: str, *, prefix: bool) -> str:
    words = [w for w in q.translate(_TSQUERY_SYNTAX).split() if w][:12]
    if not words:
        return ""
    terms = [f"'{w}'" for w in words]
    if prefix:
        terms[-1] += ":*"
    return " & ".join(terms)


def search(*, q: str, language: str, limit: int = SEARCH_LIMIT, prefix: bool = False) -> list[Article]:
    """Published articles a reader of ``language`` sees that match every word of ``q``, best
    first. ``prefix``: the last word may be unfinished (suggestions while typing)."""
    q = (q or "").strip()[:200]
    if not q:
        return []
    visible = published(language=language)
    if connection.vendor != "postgresql":
        for word in q.split()[:12]:
            visible = visible.filter(Q(title__icontains=word) | Q(body__icontains=word))
        return list(visible.only(*LIST_FIELDS).order_by("title", "id")[:limit])
    query = _tsquery(q, prefix=prefix)
    if not query:
        return []
    # One tsquery per configuration; each OR branch is a lookup in the same GIN index.
    match = (
        "((helpcenter_article.language = 'en' AND search_vector @@ to_tsquery('english', %s))"
        " OR (helpcenter_article.language <> 'en' AND search_vector @@ to_tsquery('simple', %s)))"
    )
    rank = (
        "ts_rank(search_vector, CASE WHEN helpcenter_article.language = 'en'"
        " THEN to_tsquery('english', %s) ELSE to_tsquery('simple', %s) END)"
    )
    return list(
        visible.only(*LIST_FIELDS)
        .filter(RawSQL(match, (query, query), output_field=BooleanField()))  # noqa: S611  (the words are parameters)
        .annotate(rank=RawSQL(rank, (query, query), output_field=FloatField()))  # noqa: S611
        .order_by("-rank", "title", "id")[:limit]
    )


# --- staff -----------------------------------------------------------------------------------


def staff_articles(*, status: str = "") -> QuerySet[Article]:
    queryset = Article.objects.select_related("author").defer("body", "body_html").order_by("-updated_at", "-id")
    if status in ArticleStatus.values:
        queryset = queryset.filter(status=status)
    return queryset


def draft_from_inquiry(inquiry: Inquiry) -> dict:
    """Initial values of an article started from a resolved inquiry: its subject, category and
    language, and its last reply to the customer as the body."""
    reply = (
        Message.objects.filter(inquiry=inquiry, kind=MessageKind.OUTBOUND)
        .order_by("-created_at", "-id")
        .values_list("body", flat=True)
        .first()
    )
    return {
        "title": inquiry.subject,
        "category": inquiry.category,
        "language": inquiry.customer.preferred_language or FALLBACK,
        "body": reply or "",
    }
