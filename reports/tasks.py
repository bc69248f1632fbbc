from __future__ import annotations

import datetime as dt
import logging
import time

from celery import shared_task
from django.conf import settings

from fulfillment import clock
from fulfillment.models import Team
from fulfillment.tiers import Tier
from inquiries.enums import Category, Channel

from . import rollups, weekly_mail
from .forms import Preset, preset_range
from .metrics import METRICS, Filters
from .models import Rollup

log = logging.getLogger(__name__)


def common_filters(today: dt.date) -> list[Filters]:
    """The views people open most: each preset period, without a filter and with each single
    tier, category, channel and team."""
    singles = [
        {},
        *({"tier": t} for t in Tier.values),
        *({"category": c} for c in Category.values),
        *({"channel": c} for c in Channel.values),
        *({"team": pk} for pk in Team.objects.order_by("pk").values_list("pk", flat=True)),
    ]
    found = []
    for preset, _label in Preset.CHOICES:
        start, end = preset_range(preset, today)
        found += [Filters(start=start, end=end, **single) for single in singles]
    return found


def refresh(filters: list[Filters] | None = None) -> dict:
    """Recompute every metric for ``filters`` (default: ``common_filters``), storing each query's
    result; then delete rollups older than a day. Returns what it did."""
    began = time.perf_counter()
    filters = common_filters(clock.today()) if filters is None else filters
    with rollups.refreshing():
        for one in filters:
            for metric in METRICS.values():
                metric.compute(one)
    purged, _by_model = Rollup.objects.filter(computed_at__lt=clock.now() - dt.timedelta(days=1)).delete()
    done = {"views": len(filters), "purged": purged, "seconds": round(time.perf_counter() - began, 1)}
    log.info("report rollups refreshed: %s", done)
    return done


@shared_task(acks_late=True, expires=getattr(settings, "FD_REPORT_ROLLUP_SECONDS", 600))
def refresh_rollups() -> dict:
    """Beat, every FD_REPORT_ROLLUP_SECONDS: recompute the dashboard's common views
    (reports/rollups.py)."""
    return refresh()


@shared_task(acks_late=True, expires=3600)
def send_weekly_reports() -> int:
    """Beat, hourly: last week's report to whoever is due it and was not told yet
    (reports/weekly_mail.py). Returns how many were told."""
    return weekly_mail.send()
