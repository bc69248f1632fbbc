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

import datetime as dt
from collections import Counter

from django.db import connection
from django.db.models import BooleanField, Count, Exists, FloatField, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from fulfillment import clock
from inquiries.enums import Category, MessageKind
from inquiries.models import Inquiry, Message

from .enums import ArticleStatus
from .models import Article, ArticleView, WebInquiry

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
    queryset = search_queryset(q=q, language=language, prefix=prefix)
    return list(queryset[:limit]) if queryset is not None else []


def search_queryset(*, q: str, language: str, prefix: bool = False) -> QuerySet[Article] | None:
    """The query behind ``search`` (None: nothing to search for)."""
    q = (q or "").strip()[:200]
    if not q:
        return None
    visible = published(language=language)
    if connection.vendor != "postgresql":
        for word in q.split()[:12]:
            visible = visible.filter(Q(title__icontains=word) | Q(body__icontains=word))
        return visible.only(*LIST_FIELDS).order_by("title", "id")
    query = _tsquery(q, prefix=prefix)
    if not query:
        return None
    # One tsquery per configuration; each OR branch is a lookup in the same GIN index.
    match = (
        "((helpcenter_article.language = 'en' AND search_vector @@ to_tsquery('english', %s))"
        " OR (helpcenter_article.language <> 'en' AND search_vector @@ to_tsquery('simple', %s)))"
    )
    rank = (
        "ts_rank(search_vector, CASE WHEN helpcenter_article.language = 'en'"
        " THEN to_tsquery('english', %s) ELSE to_tsquery('simple', %s) END)"
    )
    return (
        visible.only(*LIST_FIELDS)
        .filter(RawSQL(match, (query, query), output_field=BooleanField()))  # noqa: S611  (words are parameters)
        .annotate(rank=RawSQL(rank, (query, query), output_field=FloatField()))  # noqa: S611
        .order_by("-rank", "title", "id")
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


# --- reports ---------------------------------------------------------------------------------

REPORT_DAYS = 90
TOP_WORDS = 5
#: Words too common in subjects to say what an inquiry is about.
STOP_WORDS = frozenset({
    "a", "an", "and", "are", "but", "can", "for", "from", "have", "how", "i", "is", "it", "my", "no", "not", "of",
    "on", "or", "our", "the", "this", "to", "was", "what", "when", "where", "why", "with", "you", "your", "please",
    "order", "help", "hello", "hi",
})  # fmt: skip


def faq_candidates(*, days: int = REPORT_DAYS) -> list[dict]:
    """Categories customers asked about in the last ``days`` that have no published article
    (in any language), busiest first, each with the words its subjects use most."""
    since = clock.now() - dt.timedelta(days=days)
    covered = Article.objects.filter(status=ArticleStatus.PUBLISHED).values("category")
    recent = Inquiry.objects.filter(created_at__gte=since).exclude(category__in=covered)
    rows = list(recent.order_by().values("category").annotate(n=Count("id")).order_by("-n", "category"))
    if not rows:
        return []
    words = _subject_words(recent)
    labels = dict(Category.choices)
    return [
        {"category": row["category"], "label": labels.get(row["category"], row["category"]), "inquiries": row["n"],
         "words": words.get(row["category"], [])}
        for row in rows
    ]  # fmt: skip


#: The top words per category of the inquiries in ``{inner}`` (a query Django compiled; its
#: parameters are passed apart).
_WORDS_SQL = (
    "SELECT category, word, n FROM ("
    " SELECT category, word, COUNT(*) AS n,"
    "  ROW_NUMBER() OVER (PARTITION BY category ORDER BY COUNT(*) DESC, word) AS place"
    " FROM (SELECT s.category, regexp_split_to_table(lower(s.subject), '[[:space:][:punct:]]+') AS word"
    "  FROM ({inner}) AS s) AS w"
    " WHERE char_length(word) >= 3 AND NOT (word = ANY(%s))"
    " GROUP BY category, word) AS ranked WHERE place <= %s ORDER BY category, n DESC, word"
)


def _subject_words(inquiries: QuerySet[Inquiry]) -> dict[str, list[tuple[str, int]]]:
    """The most frequent subject words per category: counted by PostgreSQL in one query, or
    (SQLite) in Python over the subjects."""
    if connection.vendor == "postgresql":
        sql, params = inquiries.values("category", "subject").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(_WORDS_SQL.format(inner=sql), [*params, sorted(STOP_WORDS), TOP_WORDS])
            found: dict[str, list[tuple[str, int]]] = {}
            for category, word, n in cursor.fetchall():
                found.setdefault(category, []).append((word, n))
            return found
    counters: dict[str, Counter] = {}
    for category, subject in inquiries.values_list("category", "subject").iterator():
        for word in _words(subject):
            counters.setdefault(category, Counter())[word] += 1
    return {
        category: sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:TOP_WORDS]
        for category, counter in counters.items()
    }


def _words(subject: str) -> list[str]:
    # ASCII punctuation separates words; letters and the marks of other scripts stay.
    cleaned = "".join(ch if ch.isalnum() or not ch.isascii() else " " for ch in subject.lower())
    return [w for w in cleaned.split() if len(w) >= 3 and w not in STOP_WORDS]


def articles_readers_still_ask(*, days: int = REPORT_DAYS, limit: int = 50) -> list[dict]:
    """Articles read in the last ``days`` by sessions that then wrote in through the help
    center's form: how many sessions read each, and how many of them still sent an inquiry."""
    since = clock.now() - dt.timedelta(days=days)
    asked_after = WebInquiry.objects.filter(session_key=OuterRef("session_key"), created_at__gte=OuterRef("viewed_at"))
    rows = (
        ArticleView.objects.filter(viewed_at__gte=since)
        .annotate(asked=Exists(asked_after))
        .values("article_id", "article__title", "article__language", "article__slug")
        .annotate(readers=Count("id"), still_asked=Count("id", filter=Q(asked=True)))
        .filter(still_asked__gt=0)
        .order_by("-still_asked", "-readers", "article_id")[:limit]
    )
    return [
        {
            "id": row["article_id"],
            "title": row["article__title"],
            "language": row["article__language"],
            "readers": row["readers"],
            "still_asked": row["still_asked"],
            "share": round(100 * row["still_asked"] / row["readers"]),
        }
        for row in rows
    ]
