"""The supervisor dashboard's metrics: each one SQL aggregation over the desk's tables, returned
as a ``Table`` (a chart's and a CSV's data), for one ``Filters`` (a date range in the desk's time
zone, and optionally a tier, category and channel).

A metric is a function ``(filters) -> Table`` registered with ``@metric("key")``; the dashboard,
the CSV downloads, the weekly report and ``/api/v1/metrics/<key>/`` all read ``METRICS``.
Never a Python loop over rows: the database counts; Python only shapes the few result rows.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import (
    Avg,
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.utils.translation import gettext_lazy as _

from escalation import metrics as escalation_metrics
from escalation.models import Escalation
from fulfillment import clock
from fulfillment.tiers import Tier
from inquiries.enums import ACTIVE, Category, FollowUpState, InquiryStatus, MessageKind
from inquiries.models import FollowUpCall, Inquiry, InquiryOrder
from inquiries.targets.models import TargetKind, TargetRecord
from orders.enums import Department
from orders.models import Handoff, Order
from portal.selectors import ratings


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
    return _narrow(Inquiry.objects.all(), filters)


def _narrow(rows, filters: Filters, prefix: str = "", *, tier: bool = True):
    """``rows`` narrowed by the filters on their inquiry, reached through ``prefix``."""
    if tier and filters.tier:
        rows = rows.filter(**{f"{prefix}tier": filters.tier})
    if filters.category:
        rows = rows.filter(**{f"{prefix}category": filters.category})
    if filters.channel:
        rows = rows.filter(**{f"{prefix}channel": filters.channel})
    return rows


def _zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _bounds(filters: Filters) -> tuple[dt.datetime, dt.datetime]:
    """The range as [start, end): local midnight of ``start`` to local midnight after ``end``."""
    zone = _zone()
    start = dt.datetime.combine(filters.start, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(filters.end + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return start, end


def _in_range(field: str, filters: Filters) -> Q:
    start, end = _bounds(filters)
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


def _days(filters: Filters) -> list[dt.date]:
    return [filters.start + dt.timedelta(days=n) for n in range((filters.end - filters.start).days + 1)]


def _percent(part: int, whole: int) -> float | None:
    """``part`` as a percentage of ``whole``, one decimal; None when ``whole`` is 0."""
    return round(100 * part / whole, 1) if whole else None


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


AGE_BUCKETS = (
    (0, 1, _("Under 1 day")),
    (1, 3, _("1–3 days")),
    (3, 7, _("3–7 days")),
    (7, 14, _("7–14 days")),
    (14, None, _("Over 14 days")),
)


@metric("age", _("Age of open inquiries"))
def age(filters: Filters) -> Table:
    """Inquiries open now, by tier and by age (now − opened) in days: [0, 1), [1, 3), [3, 7),
    [7, 14), 14 and over. A snapshot: the date range does not apply. One query."""
    now = clock.now()
    bucket = Case(
        *(
            When(created_at__gt=now - dt.timedelta(days=high), then=Value(n))
            for n, (_low, high, _label) in enumerate(AGE_BUCKETS)
            if high is not None
        ),
        default=Value(len(AGE_BUCKETS) - 1),
        output_field=IntegerField(),
    )
    counts = (
        inquiries(filters)
        .filter(status__in=ACTIVE)
        .annotate(bucket=bucket)
        .values_list("tier", "bucket")
        .annotate(n=Count("id"))
        .order_by("tier", "bucket")
    )
    by_tier: dict[int, dict[int, int]] = {}
    for tier, n_bucket, n in counts:
        by_tier.setdefault(tier, {})[n_bucket] = n
    return Table(
        key="age",
        title=str(_("Age of open inquiries")),
        columns=[str(_("Tier")), *(str(label) for _low, _high, label in AGE_BUCKETS)],
        rows=[(str(Tier(t).label), *(by_tier[t].get(n, 0) for n in range(len(AGE_BUCKETS)))) for t in sorted(by_tier)],
        chart="stacked",
    )


@metric("targets", _("Service targets met"))
def targets(filters: Filters) -> Table:
    """Per local day in the range: the first-response and resolution targets that stopped that
    day (their target records with a target: ``met`` set), and how many were met. One query."""
    counts = (
        _narrow(TargetRecord.objects.filter(met__isnull=False), filters, "inquiry__")
        .filter(_in_range("stopped_at", filters), kind__in=[TargetKind.FIRST_RESPONSE, TargetKind.RESOLUTION])
        .annotate(day=TruncDate("stopped_at", tzinfo=_zone()))
        .values_list("day", "kind")
        .annotate(n=Count("id"), met=Count("id", filter=Q(met=True)))
        .order_by("day", "kind")
    )
    by_day: dict[dt.date, dict[str, tuple[int, int]]] = {}
    for day, kind, n, met in counts:
        by_day.setdefault(day, {})[kind] = (n, met)
    rows = []
    for day in _days(filters):
        first = by_day.get(day, {}).get(TargetKind.FIRST_RESPONSE, (0, 0))
        resolution = by_day.get(day, {}).get(TargetKind.RESOLUTION, (0, 0))
        rows.append((day, first[0], first[1], resolution[0], resolution[1]))
    return Table(
        key="targets",
        title=str(_("Service targets met")),
        columns=[
            str(_("Day")),
            str(_("First response due")),
            str(_("First response met")),
            str(_("Resolution due")),
            str(_("Resolution met")),
        ],
        rows=rows,
        chart="line",
    )


@metric("escalations", _("Escalation rate and time at each tier"))
def escalations(filters: Filters) -> Table:
    """Per tier: the inquiries that reached it in the range (opened, for the rep tier; escalated
    to it, for the others), how many were escalated up from it in the range, the rate (%), and
    the average hours of the periods at the tier that ended in the range
    (escalation.metrics.time_at_tier). Three queries."""
    arrived_escalated = (
        _narrow(Escalation.objects.all(), filters, "inquiry__", tier=False)
        .filter(_in_range("created_at", filters))
        .values_list("to_tier")
        .annotate(n=Count("inquiry", distinct=True))
    )
    arrived = dict(arrived_escalated)
    arrived[Tier.REP] = (
        _narrow(Inquiry.objects.all(), filters, tier=False).filter(_in_range("created_at", filters)).count()
    )
    left = dict(
        _narrow(Escalation.objects.all(), filters, "inquiry__", tier=False)
        .filter(_in_range("created_at", filters))
        .values_list("from_tier")
        .annotate(n=Count("inquiry", distinct=True))
    )
    start, end = _bounds(filters)
    times = {
        row.tier: row.average_seconds
        for row in escalation_metrics.time_at_tier(
            start, end, category=filters.category or None, channel=filters.channel or None
        )
    }
    tiers = [filters.tier] if filters.tier else Tier.values
    rows = []
    for t in tiers:
        reached, up = arrived.get(t, 0), left.get(t, 0)
        if not (reached or up or t in times):
            continue
        hours = round(times[t] / 3600, 1) if t in times else None
        rows.append((str(Tier(t).label), reached, up, _percent(up, reached), hours))
    return Table(
        key="escalations",
        title=str(_("Escalation rate and time at each tier")),
        columns=[
            str(_("Tier")),
            str(_("Reached the tier")),
            str(_("Escalated from it")),
            str(_("Escalation rate (%)")),
            str(_("Average hours at the tier")),
        ],
        rows=rows,
        units={str(_("Escalation rate (%)")): "%", str(_("Average hours at the tier")): "h"},
    )


@metric("first_contact", _("First-contact resolution and reopens"))
def first_contact(filters: Filters) -> Table:
    """Inquiries resolved in the range (``resolved_at``, the latest resolution): how many; how
    many at first contact (never reopened, and at most one reply sent to the customer); how many
    were reopened at least once; both as a % of resolved. One query; no row without data."""
    totals = (
        inquiries(filters)
        .filter(_in_range("resolved_at", filters))
        .annotate(replies=Count("messages", filter=Q(messages__kind=MessageKind.OUTBOUND)))
        .aggregate(
            resolved=Count("id"),
            first=Count("id", filter=Q(reopen_count=0, replies__lte=1)),
            reopened=Count("id", filter=Q(reopen_count__gt=0)),
        )
    )
    resolved = totals["resolved"]
    rows = []
    if resolved:
        rows.append(
            (
                str(_("All")),
                resolved,
                totals["first"],
                _percent(totals["first"], resolved),
                totals["reopened"],
                _percent(totals["reopened"], resolved),
            )
        )
    return Table(
        key="first_contact",
        title=str(_("First-contact resolution and reopens")),
        columns=[
            "",
            str(_("Resolved")),
            str(_("Resolved at first contact")),
            str(_("First-contact rate (%)")),
            str(_("Reopened")),
            str(_("Reopen rate (%)")),
        ],
        rows=rows,
        units={str(_("First-contact rate (%)")): "%", str(_("Reopen rate (%)")): "%"},
    )


@metric("satisfaction", _("Satisfaction"))
def satisfaction(filters: Filters) -> Table:
    """Customer ratings given in the range (portal.selectors.ratings, by ``created_at``), per score
    1–5, with the average score in the notes. One query; no rows without a rating."""
    start, end = _bounds(filters)
    scores = range(1, 6)
    totals = _narrow(ratings(since=start, until=end), filters, "inquiry__").aggregate(
        average=Avg("score"), **{f"score_{n}": Count("pk", filter=Q(score=n)) for n in scores}
    )
    average = totals["average"]
    return Table(
        key="satisfaction",
        title=str(_("Satisfaction")),
        columns=[str(_("Score")), str(_("Ratings"))],
        rows=[(n, totals[f"score_{n}"]) for n in scores] if average is not None else [],
        notes=str(_("Average score: %(average)s")) % {"average": f"{average:.2f}"} if average is not None else "",
    )


@metric("follow_ups", _("Follow-up calls due, done and missed"))
def follow_ups(filters: Filters) -> Table:
    """Per local day in the range: follow-up calls due that day (``due_at``; cancelled ones left
    out), how many of them are done, and how many were missed (their window passed uncalled).
    One query."""
    counts = (
        _narrow(FollowUpCall.objects.exclude(state=FollowUpState.CANCELLED), filters, "inquiry__")
        .filter(_in_range("due_at", filters))
        .annotate(day=TruncDate("due_at", tzinfo=_zone()))
        .values_list("day")
        .annotate(
            due=Count("id"),
            done=Count("id", filter=Q(state=FollowUpState.DONE)),
            missed=Count("id", filter=Q(state=FollowUpState.MISSED)),
        )
        .order_by("day")
    )
    by_day = {day: (due, done, missed) for day, due, done, missed in counts}
    return Table(
        key="follow_ups",
        title=str(_("Follow-up calls due, done and missed")),
        columns=[str(_("Day")), str(_("Due")), str(_("Done")), str(_("Missed"))],
        rows=[(day, *by_day.get(day, (0, 0, 0))) for day in _days(filters)],
        chart="line",
    )


def _orders(rows, filters: Filters, field: str = "pk"):
    """``rows`` (orders, or rows with an order ``field``) narrowed to those linked to an inquiry
    that matches the tier, category and channel filters — when any is set."""
    if not (filters.tier or filters.category or filters.channel):
        return rows
    linked = _narrow(InquiryOrder.objects.filter(order=OuterRef(field)), filters, "inquiry__")
    return rows.filter(Exists(linked))


@metric("expedites", _("Expedited orders on time and late"))
def expedites(filters: Filters) -> Table:
    """Expedited orders (``expedite``) with a promised date: shipped in the range (their first
    shipment's ``shipped_at``) on time (local date ≤ ``ship_by``) or late; delivered in the range
    (their last delivery's ``delivered_at``) on time (≤ ``deliver_by``) or late. One query."""
    zone = _zone()
    start, end = _bounds(filters)
    rows = _orders(Order.objects.filter(expedite=True), filters).annotate(
        shipped=Min("shipments__shipped_at"), delivered=Max("shipments__delivered_at")
    )
    shipped = Q(ship_by__isnull=False, shipped__gte=start, shipped__lt=end)
    delivered = Q(deliver_by__isnull=False, delivered__gte=start, delivered__lt=end)
    totals = rows.annotate(
        shipped_day=TruncDate("shipped", tzinfo=zone), delivered_day=TruncDate("delivered", tzinfo=zone)
    ).aggregate(
        shipped_on_time=Count("id", filter=shipped & Q(shipped_day__lte=F("ship_by"))),
        shipped_late=Count("id", filter=shipped & Q(shipped_day__gt=F("ship_by"))),
        delivered_on_time=Count("id", filter=delivered & Q(delivered_day__lte=F("deliver_by"))),
        delivered_late=Count("id", filter=delivered & Q(delivered_day__gt=F("deliver_by"))),
    )
    table_rows = [
        (str(label), totals[f"{key}_on_time"], totals[f"{key}_late"])
        for key, label in (("shipped", _("Shipped")), ("delivered", _("Delivered")))
        if totals[f"{key}_on_time"] or totals[f"{key}_late"]
    ]
    return Table(
        key="expedites",
        title=str(_("Expedited orders on time and late")),
        columns=["", str(_("On time")), str(_("Late"))],
        rows=table_rows,
        chart="stacked",
    )


HOT_SPOT_PRODUCTS = 10


@metric("hot_spots", _("Hot spots: categories, products and departments"))
def hot_spots(filters: Filters) -> Table:
    """Three groups of rows, each most first: inquiries opened in the range per category; per
    product (sku of the linked orders' lines; an inquiry counts once per sku; the top 10); and
    hand-offs created in the range per department (of orders linked to a matching inquiry when
    a filter is set). Three queries."""
    opened = inquiries(filters).filter(_in_range("created_at", filters))
    categories = opened.values_list("category").annotate(n=Count("id")).order_by("-n", "category")
    products = (
        opened.filter(orders__lines__sku__isnull=False)
        .values_list("orders__lines__sku")
        .annotate(n=Count("id", distinct=True))
        .order_by("-n", "orders__lines__sku")[:HOT_SPOT_PRODUCTS]
    )
    departments = (
        _orders(Handoff.objects.filter(_in_range("created_at", filters)), filters, "order_id")
        .values_list("department")
        .annotate(n=Count("id"))
        .order_by("-n", "department")
    )
    rows = [
        *((str(_("Category: %(name)s") % {"name": Category(c).label}), n) for c, n in categories),
        *((str(_("Product: %(name)s") % {"name": sku}), n) for sku, n in products),
        *((str(_("Department: %(name)s") % {"name": Department(d).label}), n) for d, n in departments),
    ]
    return Table(
        key="hot_spots",
        title=str(_("Hot spots: categories, products and departments")),
        columns=[str(_("Hot spot")), str(_("Count"))],
        rows=rows,
        notes=str(_("Categories and products count inquiries opened; departments count hand-offs created.")),
    )


@metric("reps", _("Load and handling time per rep"))
def reps(filters: Filters) -> Table:
    """Per assignee: inquiries resolved in the range while assigned to them (``resolved_at``),
    inquiries open and assigned to them now, and the average handling hours (opened → resolved)
    of the resolved ones. People with neither are left out. One query."""
    resolved = _in_range("resolved_at", filters)
    handling = ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())
    counts = (
        inquiries(filters)
        .filter(assignee__isnull=False)
        .filter(resolved | Q(status__in=ACTIVE))
        .values("assignee", "assignee__username", "assignee__first_name", "assignee__last_name")
        .annotate(
            handled=Count("id", filter=resolved),
            open=Count("id", filter=Q(status__in=ACTIVE)),
            average=Avg(handling, filter=resolved),
        )
        .order_by("assignee__username")
    )
    rows = []
    for row in counts:
        name = f"{row['assignee__first_name']} {row['assignee__last_name']}".strip() or row["assignee__username"]
        average = row["average"]
        hours = round(average.total_seconds() / 3600, 1) if average is not None else None
        rows.append((name, row["handled"], row["open"], hours))
    return Table(
        key="reps",
        title=str(_("Load and handling time per rep")),
        columns=[str(_("Rep")), str(_("Resolved")), str(_("Open now")), str(_("Average handling hours"))],
        rows=rows,
        units={str(_("Average handling hours")): "h"},
    )
