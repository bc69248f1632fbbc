"""Reads for the portal pages, the inquiry page's panel and reports."""

from __future__ import annotations

import datetime as dt

from django.db.models import Avg, Count, Q, QuerySet

from inquiries.enums import MessageKind
from inquiries.models import Inquiry, Message

from .enums import LOW_SCORE, LinkPurpose
from .models import CustomerLink, SatisfactionRating


def conversation(inquiry: Inquiry) -> QuerySet[Message]:
    """What the customer may read: their messages and our replies (sent or on their way), never
    internal notes."""
    return (
        Message.objects.filter(inquiry=inquiry, kind__in=[MessageKind.INBOUND, MessageKind.OUTBOUND])
        .only("pk", "kind", "body", "author_name", "created_at", "channel", "subject")
        .order_by("created_at", "pk")
    )


def status_links(inquiry: Inquiry) -> QuerySet[CustomerLink]:
    return CustomerLink.objects.filter(inquiry=inquiry, purpose=LinkPurpose.STATUS).order_by("-created_at", "-pk")


def ratings_for(inquiry: Inquiry) -> QuerySet[SatisfactionRating]:
    return SatisfactionRating.objects.filter(inquiry=inquiry).order_by("-cycle")


def ratings(*, since: dt.datetime | None = None, until: dt.datetime | None = None) -> QuerySet[SatisfactionRating]:
    """Ratings for reports, with their inquiry (category, assignee) joined."""
    rows = SatisfactionRating.objects.select_related("inquiry", "inquiry__assignee")
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if until is not None:
        rows = rows.filter(created_at__lt=until)
    return rows


def rating_summary(*, since: dt.datetime | None = None, until: dt.datetime | None = None) -> dict:
    """Count, average score and low ratings (≤ 2) over a period, in one query."""
    return ratings(since=since, until=until).aggregate(
        count=Count("pk"), average=Avg("score"), low=Count("pk", filter=Q(score__lte=LOW_SCORE))
    )
