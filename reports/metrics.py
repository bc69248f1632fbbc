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
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
)
from django.db.models.functions import TruncDate
from django.utils.translation import gettext_lazy as _

from escalation import metrics as escalation_metrics
from escalation.models import Escalation
from fulfillment import clock
from fulfillment.tiers import Tier
from inquiries.enums import ACTIVE, Category, FollowUpState, InquiryStatus
from inquiries.models import FollowUpCall, Inquiry, InquiryOrder
from inquiries.targets.models import TargetKind, TargetRecord
from orders.enums import NOT_DELIVERED, NOT_SHIPPED, Department, OrderStatus
from orders.models import Handoff, Order, Shipment
from portal.selectors import ratings

from . import rollups


@dataclass(frozen=True)
class Filters:
    """``start``..``end`` are whole days (both included) in the desk's time zone (settings.TIME_ZONE)."""

    start: dt.date
    end: dt.date
    tier: int | None = None
    category: str = ""
    channel: str = ""
    #: A team's id: inquiries assigned to a member of it (fulfillment.Team).
    team: int | None = None


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
    """Inquiries narrowed by the tier, category, channel and team filters (not by date: each
    metric says which date it counts by)."""
    return _narrow(Inquiry.objects.all(), filters)


def _narrow(rows, filters: Filters, prefix: str = "", *, tier: bool = True):
    """``rows`` narrowed by the filters on their inquiry, reached through ``prefix``."""
    if tier and filters.tier:
        rows = rows.filter(**{f"{prefix}tier": filters.tier})
    if filters.category:
        rows = rows.filter(**{f"{prefix}category": filters.category})
    if filters.channel:
        rows = rows.filter(**{f"{prefix}channel": filters.channel})
    if filters.team:
        rows = rows.filter(**{f"{prefix}assignee__team": filters.team})
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


def percent(part: int, whole: int) -> float | None:
    """``part`` as a percentage of ``whole``, one decimal; None when ``whole`` is 0."""
    return round(100 * part / whole, 1) if whole else None


@metric("backlog", _("Open backlog by tier and status"))
def backlog(filters: Filters) -> Table:
    """Inquiries open now, by tier and status (the date range does not apply: it is a snapshot).
    One query, grouped by tier with a count per status (a handful of groups: no sort). It counts
    ``tier`` (never null), not ``id``, so the covering index inquiry_open_report_idx answers it
    without reading the table."""
    statuses = [s for s in InquiryStatus if s in ACTIVE]
    counts = rollups.rows(
        inquiries(filters)
        .filter(status__in=ACTIVE)
        .values("tier")
        .annotate(**{f"s{n}": Count("tier", filter=Q(status=s)) for n, s in enumerate(statuses)})
        .order_by("tier")
    )
    return Table(
        key="backlog",
        title=str(_("Open backlog by tier and status")),
        columns=[str(_("Tier")), *(str(s.label) for s in statuses)],
        rows=[(str(Tier(row["tier"]).label), *(row[f"s{n}"] for n in range(len(statuses)))) for row in counts],
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
    [7, 14), 14 and over. A snapshot: the date range does not apply. One query, grouped by tier
    with a count per bucket (of ``tier``: see ``backlog``)."""
    now = clock.now()
    buckets = {}
    for n, (low, high, _label) in enumerate(AGE_BUCKETS):
        opened = Q(created_at__lte=now - dt.timedelta(days=low)) if low else Q()
        if high is not None:
            opened &= Q(created_at__gt=now - dt.timedelta(days=high))
        buckets[f"b{n}"] = Count("tier", filter=opened)
    counts = inquiries(filters).filter(status__in=ACTIVE).values("tier").annotate(**buckets).order_by("tier")
    return Table(
        key="age",
        title=str(_("Age of open inquiries")),
        columns=[str(_("Tier")), *(str(label) for _low, _high, label in AGE_BUCKETS)],
        rows=[(str(Tier(row["tier"]).label), *(row[f"b{n}"] for n in range(len(AGE_BUCKETS)))) for row in counts],
        chart="stacked",
    )


@metric("targets", _("Service targets met"))
def targets(filters: Filters) -> Table:
    """Per local day in the range: the first-response and resolution targets that stopped that
    day (their target records with a target: ``met`` set), and how many were met. One query."""
    counts = rollups.rows(
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
            str(_("First responses")),
            str(_("First responses on time")),
            str(_("Resolutions")),
            str(_("Resolutions on time")),
        ],
        rows=rows,
        chart="line",
    )


@metric("escalations", _("Escalation rate and time at each tier"))
def escalations(filters: Filters) -> Table:
    """Per tier: how often work reached it in the range (inquiries opened, for the rep tier;
    escalations to it, for the others), how many escalations went up from it in the range, the
    rate (%), and the average hours of the periods at the tier that ended in the range
    (escalation.metrics.time_at_tier, without its median). Escalations are counted as events:
    an inquiry escalated to the same tier twice in the range counts twice. Three queries."""
    in_range = _in_range("created_at", filters)
    moves = rollups.aggregate(
        _narrow(Escalation.objects.all(), filters, "inquiry__", tier=False).filter(in_range),
        **{f"to_{t}": Count("id", filter=Q(to_tier=t)) for t in Tier.values if t != Tier.REP},
        **{f"from_{t}": Count("id", filter=Q(from_tier=t)) for t in Tier.values if t != Tier.SUPERVISOR},
    )
    arrived = {t: moves.get(f"to_{t}", 0) for t in Tier.values}
    left = {t: moves.get(f"from_{t}", 0) for t in Tier.values}
    arrived[Tier.REP] = rollups.count(_narrow(Inquiry.objects.all(), filters, tier=False).filter(in_range))
    start, end = _bounds(filters)
    times = {
        row.tier: row.average_seconds
        for row in escalation_metrics.time_at_tier(
            start,
            end,
            category=filters.category or None,
            channel=filters.channel or None,
            team=filters.team,
            median=False,
            aggregate=rollups.aggregate,
        )
    }
    tiers = [filters.tier] if filters.tier else Tier.values
    rows = []
    for t in tiers:
        reached, up = arrived.get(t, 0), left.get(t, 0)
        if not (reached or up or t in times):
            continue
        hours = round(times[t] / 3600, 1) if t in times else None
        rows.append((str(Tier(t).label), reached, up, percent(up, reached), hours))
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
    many at first contact (never reopened, and nothing written to the customer after the first
    response: ``last_outbound_at`` empty or not after ``first_response_at``); how many were
    reopened at least once; both as a % of resolved. One query over the row's own columns (an
    index on ``resolved_at``); no row without data."""
    single_contact = Q(last_outbound_at__isnull=True) | Q(last_outbound_at__lte=F("first_response_at"))
    totals = rollups.aggregate(
        inquiries(filters).filter(_in_range("resolved_at", filters)),
        resolved=Count("id"),
        first=Count("id", filter=Q(reopen_count=0) & single_contact),
        reopened=Count("id", filter=Q(reopen_count__gt=0)),
    )
    resolved = totals["resolved"]
    rows = []
    if resolved:
        rows.append(
            (
                str(_("All")),
                resolved,
                totals["first"],
                percent(totals["first"], resolved),
                totals["reopened"],
                percent(totals["reopened"], resolved),
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
    totals = rollups.aggregate(
        _narrow(ratings(since=start, until=end), filters, "inquiry__"),
        average=Avg("score"),
        **{f"score_{n}": Count("pk", filter=Q(score=n)) for n in scores},
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
    counts = rollups.rows(
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
    that matches the tier, category, channel and team filters — when any is set."""
    if not (filters.tier or filters.category or filters.channel or filters.team):
        return rows
    linked = _narrow(InquiryOrder.objects.filter(order=OuterRef(field)), filters, "inquiry__")
    return rows.filter(Exists(linked))


def _first_shipped():
    """The local day of the order's first shipment."""
    first = Subquery(
        Shipment.objects.filter(order=OuterRef("pk")).order_by("shipped_at", "id").values("shipped_at")[:1]
    )
    return TruncDate(first, tzinfo=_zone())


def _last_delivered():
    """The local day of the order's last delivery."""
    last = Subquery(
        Shipment.objects.filter(order=OuterRef("pk"), delivered_at__isnull=False)
        .order_by("-delivered_at", "-id")
        .values("delivered_at")[:1]
    )
    return TruncDate(last, tzinfo=_zone())


def _promises(rows, promised: str, done, pending_statuses, today: dt.date) -> dict[str, int]:
    """Of ``rows`` (orders promised by ``promised`` in the range): kept (``done`` on or before
    the promised day), late (done after it, or not done and the day has passed), not yet due."""
    return rollups.aggregate(
        rows.annotate(done_day=done),
        on_time=Count("id", filter=Q(done_day__lte=F(promised))),
        late=Count(
            "id",
            filter=Q(done_day__gt=F(promised))
            | Q(done_day__isnull=True, status__in=pending_statuses, **{f"{promised}__lt": today}),
        ),
        pending=Count(
            "id", filter=Q(done_day__isnull=True, status__in=pending_statuses, **{f"{promised}__gte": today})
        ),
    )


@metric("expedites", _("Expedited orders on time and late"))
def expedites(filters: Filters) -> Table:
    """Expedited orders (``expedite``, not cancelled) whose promised day is in the range, per
    promise: ship-by (kept when the first shipment left on or before that local day) and
    deliver-by (kept when the last delivery was on or before it). Late: done after the day, or
    not done and the day has passed; not yet due: not done, the day is today or later. Two
    queries over the orders promised in the range (partial indexes on ``ship_by`` and
    ``deliver_by`` of expedited orders)."""
    today = clock.today()
    expedited = _orders(Order.objects.filter(expedite=True).exclude(status=OrderStatus.CANCELLED), filters)
    shipped = _promises(
        expedited.filter(ship_by__range=(filters.start, filters.end)), "ship_by", _first_shipped(), NOT_SHIPPED, today
    )
    delivered = _promises(
        expedited.filter(deliver_by__range=(filters.start, filters.end)),
        "deliver_by",
        _last_delivered(),
        NOT_DELIVERED,
        today,
    )
    table_rows = [
        (str(label), totals["on_time"], totals["late"], totals["pending"])
        for label, totals in (
            (_("Shipped by the promised day"), shipped),
            (_("Delivered by the promised day"), delivered),
        )
        if totals["on_time"] or totals["late"] or totals["pending"]
    ]
    return Table(
        key="expedites",
        title=str(_("Expedited orders on time and late")),
        columns=["", str(_("On time")), str(_("Late")), str(_("Not yet due"))],
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
        *((str(_("Category: %(name)s") % {"name": Category(c).label}), n) for c, n in rollups.rows(categories)),
        *((str(_("Product: %(name)s") % {"name": sku}), n) for sku, n in rollups.rows(products)),
        *((str(_("Department: %(name)s") % {"name": Department(d).label}), n) for d, n in rollups.rows(departments)),
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
    of the resolved ones. People with neither are left out. Two queries (each on its own index:
    ``resolved_at``, and the open inquiries' assignee)."""
    person = ("assignee", "assignee__username", "assignee__first_name", "assignee__last_name")
    handling = ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())
    resolved = (
        inquiries(filters)
        .filter(_in_range("resolved_at", filters), assignee__isnull=False)
        .values(*person)
        .annotate(handled=Count("id"), average=Avg(handling))
        .order_by()
    )
    open_now = (
        inquiries(filters)
        .filter(status__in=ACTIVE, assignee__isnull=False)
        .values(*person)
        .annotate(open=Count("id"))
        .order_by()
    )
    people: dict[int, dict] = {}
    for row in rollups.rows(resolved):
        people[row["assignee"]] = {**row, "open": 0}
    for row in rollups.rows(open_now):
        people.setdefault(row["assignee"], {**row, "handled": 0, "average": None})["open"] = row["open"]
    counts = sorted(people.values(), key=lambda row: row["assignee__username"])
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
