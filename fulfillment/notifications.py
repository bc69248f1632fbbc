"""In-app notifications for staff: create them (idempotently, by key), read them, mark them read.

Other apps call ``notify`` after their own work commits (e.g. escalation notices); the header badge
reads ``unread_count`` through a small htmx fragment so no page pays for it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from . import clock
from .errors import NotFound
from .models import Notification, User


def notify(*, recipients: Iterable[User], key: str, title: str, body: str = "", url: str = "") -> None:
    """One notification per recipient for ``key``; creating it again changes nothing."""
    now = clock.now()
    rows = [
        Notification(recipient_id=user.pk, key=key, title=title[:300], body=body, url=url[:500], created_at=now)
        for user in recipients
    ]
    if rows:
        Notification.objects.bulk_create(rows, ignore_conflicts=True)


def mark_read(*, user: User, notification_id: int) -> Notification:
    """Mark one of ``user``'s notifications read (again: no change). Anyone else's is NotFound."""
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id, recipient_id=user.pk).first()
        if notification is None:
            raise NotFound(_("No such notification."))
        if notification.read_at is None:
            notification.read_at = clock.now()
            notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(*, user: User) -> int:
    """Mark every unread notification of ``user`` read; returns how many were."""
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).update(read_at=clock.now())


def unread_count(user: User) -> int:
    """How many of ``user``'s notifications are unread (one query, on the partial index)."""
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()


def notifications_for(user: User) -> QuerySet[Notification]:
    """``user``'s notifications, newest first."""
    return Notification.objects.filter(recipient_id=user.pk).order_by("-created_at", "-id")
