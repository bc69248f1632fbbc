"""Help-center articles, their timeline, and which browser sessions read them.

Tables, constraints and indexes only: every change goes through ``helpcenter/services.py``.
The full-text index is PostgreSQL-only and lives in a migration (see ``selectors.search``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fulfillment import clock
from fulfillment.models import TimelineEvent
from inquiries.enums import Category
from inquiries.models import Inquiry

from .enums import ArticleStatus, EventType


class Article(models.Model):
    """One FAQ article in one language. The same slug in another language is its translation."""

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, allow_unicode=True)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    body = models.TextField(_("text (Markdown)"))
    #: ``body`` rendered and sanitized when it was written (``markdown.render``).
    body_html = models.TextField(_("text (HTML)"), editable=False)
    status = models.CharField(_("status"), max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source_inquiry = models.ForeignKey(
        Inquiry,
        verbose_name=_("source inquiry"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=clock.now)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    helpful_yes = models.PositiveIntegerField(_("helpful"), default=0)
    helpful_no = models.PositiveIntegerField(_("not helpful"), default=0)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["title", "id"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "language"], name="article_slug_language_uniq"),
            models.CheckConstraint(condition=Q(status__in=ArticleStatus.values), name="article_status_valid"),
        ]
        indexes = [
            models.Index(fields=["language", "status", "category", "title"], name="article_public_idx"),
            models.Index(fields=["status", "-updated_at"], name="article_staff_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED


class ArticleEvent(TimelineEvent):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(_("event"), max_length=20, choices=EventType.choices)

    class Meta:
        verbose_name = _("article event")
        verbose_name_plural = _("article events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["article", "created_at", "id"], name="articleevent_article_idx")]

    def __str__(self) -> str:
        return f"{self.get_type_display()} · {self.actor_name}"


class ArticleView(models.Model):
    """A browser session read an article (once per session and article). With ``WebInquiry``
    it tells which articles' readers still wrote in (``selectors.articles_readers_still_ask``)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(_("session"), max_length=40)
    viewed_at = models.DateTimeField(_("viewed"), default=clock.now)

    class Meta:
        verbose_name = _("article view")
        verbose_name_plural = _("article views")
        constraints = [models.UniqueConstraint(fields=["session_key", "article"], name="articleview_session_uniq")]
        indexes = [models.Index(fields=["viewed_at"], name="articleview_viewed_idx")]

    def __str__(self) -> str:
        return f"{self.article_id} · {self.session_key[:8]}"


class WebInquiry(models.Model):
    """An inquiry written on the help center's form, and the browser session it came from."""

    inquiry = models.OneToOneField(Inquiry, on_delete=models.CASCADE, primary_key=True, related_name="+")
    session_key = models.CharField(_("session"), max_length=40, db_index=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)

    class Meta:
        verbose_name = _("help-center inquiry")
        verbose_name_plural = _("help-center inquiries")

    def __str__(self) -> str:
        return f"{self.inquiry_id} · {self.session_key[:8]}"
