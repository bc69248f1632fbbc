"""The supervisor dashboard's metrics: each one SQL aggregation over the desk's tables, returned
as a ``Table`` (a chart's and a CSV's data), for one ``Filters`` (a date range in the desk's time
zone, and optionally a tier, category and channel).

A metric is a function ``(filters) -> Table`` registered with ``@metric("key")``; the dashboard,
the CSV downloads, the weekly report and ``/api/v1/metrics/<key>/`` all read ``METRICS``.
Never a Python loop over rows: the database counts; Python only shapes the few result rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from fulfillment.tiers import Tier
from inquiries.enums import ACTIVE, InquiryStatus
from inquiries.models import Inquiry


@dataclass(frozen=True)
class Filters:
    """``start``..``end`` are whole days (both included) in the desk's time zone (settings.TIME_ZONE)."""

    start: dt.date
    end: dt.date
    tier: int | None = None
    category: str = ""
    channel: str = ""


@dataclass(frozen=True)
class Table:
    """A metric's result: ``columns[0]`` labels the rows (a day, a tier, a category…); the others
    are numbers. ``chart`` says how to draw it: "bar", "stacked" or "line"."""

    key: str
    title: str
    columns: list[str]
    rows: list[tuple]
    chart: str = "bar"
    notes: str = ""
    units: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Metric:
    key: str
    title: str
    compute: Callable[[Filters], Table]


METRICS: dict[str, Metric] = {}


def metric(key: str, title):
    """Register ``compute`` as the metric ``key`` (its order of registration is the dashboard's)."""

    def register(compute: Callable[[Filters], Table]) -> Callable[[Filters], Table]:
        METRICS[key] = Metric(key, title, compute)
        return compute

    return register


def inquiries(filters: Filters):
    """Inquiries narrowed by the tier, category and channel filters (not by date: each metric
    says which date it counts by)."""
    rows = Inquiry.objects.all()
    if filters.tier:
        rows = rows.filter(tier=filters.tier)
    if filters.category:
        rows = rows.filter(category=filters.category)
    if filters.channel:
        rows = rows.filter(channel=filters.channel)
    return rows


@metric("backlog", _("Open backlog by tier and status"))
def backlog(filters: Filters) -> Table:
    """Inquiries open now, by tier and status (the date range does not apply: it is a snapshot)."""
    counts = (
        inquiries(filters)
        .filter(status__in=ACTIVE)
        .values_list("tier", "status")
        .annotate(n=Count("id"))
        .order_by("tier", "status")
    )
    by_tier: dict[int, dict[str, int]] = {}
    for tier, status, n in counts:
        by_tier.setdefault(tier, {})[status] = n
    statuses = [s for s in InquiryStatus if s in ACTIVE]
    return Table(
        key="backlog",
        title=str(_("Open backlog by tier and status")),
        columns=[str(_("Tier")), *(str(s.label) for s in statuses)],
        rows=[(str(Tier(t).label), *(by_tier[t].get(s, 0) for s in statuses)) for t in sorted(by_tier)],
        chart="stacked",
    )
