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


def tell(*, users: Iterable[User], key: str, words, url: str = "", link: str = "") -> int:
    """Tell staff about something, in the app and by email, each in their own language.

    ``words`` is a callable returning ``(title, body)``, called once per recipient inside their
    language. ``url`` is the site-relative link for the notice; ``link`` the absolute one for
    the mail (FD_SITE_URL + url when not given). Only recipients who did not have this notice
    yet (by ``key``) are told: a job retried after a failure mails nobody twice — except when
    the mail went out and the job's transaction then failed (at-least-once, never lost).
    Returns how many were told.
    """
    from django.conf import settings
    from django.core.mail import send_mail
    from django.utils import translation

    users = [user for user in users if user is not None and user.is_active]
    if not users:
        return 0
    told_before = set(
        Notification.objects.filter(key=key, recipient_id__in=[u.pk for u in users]).values_list(
            "recipient_id", flat=True
        )
    )
    link = link or (getattr(settings, "FD_SITE_URL", "").rstrip("/") + url if url else "")
    told = 0
    for user in users:
        if user.pk in told_before:
            continue
        with translation.override(user.language or "en"):
            title, body = words()
        notify(recipients=[user], key=key, title=title, body=body, url=url)
        if user.email:
            text = f"{body}\n\n{link}".strip() if link else body
            send_mail(title, text, settings.DEFAULT_FROM_EMAIL, [user.email])
        told += 1
    return told
