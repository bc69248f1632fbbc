"""The portal's settings, each with a default (override in the project settings or by env)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings


def status_link_lifetime() -> dt.timedelta:
    return dt.timedelta(days=getattr(settings, "FD_STATUS_LINK_DAYS", 30))


def survey_link_lifetime() -> dt.timedelta:
    return dt.timedelta(days=getattr(settings, "FD_SURVEY_LINK_DAYS", 14))


def survey_delay() -> dt.timedelta:
    """How long after a resolution the survey mail goes out."""
    return dt.timedelta(minutes=getattr(settings, "FD_SURVEY_DELAY_MINUTES", 60))


def reply_rate() -> int:
    """Replies (and ratings) one address may post through the portal per hour."""
    return getattr(settings, "FD_PORTAL_RATE", 10)
