"""Escalation metrics the dashboard needs: SQL aggregates over a half-open time range.

Every selector takes ``start`` and ``end`` (timezone-aware; ``start`` is in, ``end`` is out) and
optional filters on the inquiry (``category``, ``channel``) and, where it means something,
``tier``. Each runs a fixed number of queries (one, or three for the returns), whatever the
data: the database groups and counts, Python only wraps the grouped rows. The exact definitions
are in docs/escalation-metrics.md; each docstring here says the same in short.

Times are wall-clock seconds (not business time). Users are named as the site names them:
full name, else username.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    When,
)
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from fulfillment.errors import InvalidInput
from fulfillment.tiers import Tier
from inquiries.enums import Category, Channel, EventType, RemedyState
from inquiries.models import Inquiry, InquiryEvent, Remedy

from .enums import Outcome
from .models import Escalation, RuleFiring


class Median(Aggregate):
    """PostgreSQL's continuous median, ``percentile_cont(0.5) WITHIN GROUP (ORDER BY x)``
    (NULLs are left out, as by AVG)."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def has_median() -> bool:
    """Does the database compute medians? (PostgreSQL does; SQLite gives the average only.)"""
    return connection.vendor == "postgresql"


# --- the result rows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int | None  # None: nobody named (e.g. an automatic escalation returned, or a deleted user)
    username: str
    name: str

    @classmethod
    def from_row(cls, row: dict, key: str) -> Person:
        """From a row grouped by the user id ``key`` and named by ``_named``."""
        username = row["username"] or ""
        full = f"{row['first_name'] or ''} {row['last_name'] or ''}".strip()
        return cls(id=row[key], username=username, name=full or username)


def _named(rows, key: str):
    """Name the grouped rows' user ``key`` by a subquery per row (a few dozen people), so the
    grouping is by the id alone: grouping by the names too sorts every input row by them
    (three times slower on a month of events)."""
    user = get_user_model().objects.filter(pk=OuterRef(key))
    return rows.annotate(**{field: Subquery(user.values(field)) for field in ("username", "first_name", "last_name")})


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class RepRate:
    person: Person
    worked: int  # distinct inquiries with a timeline event by them in the range
    escalations: int  # escalations they made by hand in the range
    escalated: int  # distinct inquiries among those
    rate: float  # escalated / worked (0 to 1)


@dataclass(frozen=True)
class CategoryRate:
    category: str
    opened: int
    escalated: int
    rate: float

    @property
    def label(self) -> str:
        return str(Category(self.category).label)


class _TierRow:
    tier: int

    @property
    def label(self) -> str:
        return str(Tier(self.tier).label)


@dataclass(frozen=True)
class TierTime(_TierRow):
    tier: int
    periods: int
    average_seconds: float
    median_seconds: float | None  # None where the database has no median (SQLite)


@dataclass(frozen=True)
class ApprovalCounts(_TierRow):
    tier: int  # the approval tier: the lowest tier that may grant the request
    requests: int
    granted: int
    granted_changed: int  # granted at another amount than asked (part of granted)
    denied: int
    withdrawn: int
    waiting: int


@dataclass(frozen=True)
class PersonCount:
    person: Person
    returns: int


@dataclass(frozen=True)
class Returns:
    closed: int  # escalations closed (any outcome) in the range
    returned: int  # of those, returned with coaching
    share: float | None  # returned / closed; None when none closed
    by_coach: list[PersonCount]
    by_coached: list[PersonCount]


@dataclass(frozen=True)
class RuleCounts:
    rule_id: int
    name: str
    trigger: str
    firings: int
    moved: int
    not_moved: int  # already at the rule's highest tier: it only notified


# --- the range and the filters ---------------------------------------------------------------------


def _check(start: dt.datetime, end: dt.datetime, *, category=None, channel=None, tier=None) -> int | None:
    """Refuse a naive or reversed range and unknown filter values; return the tier as a number
    (a form gives it as text) or None."""
    errors: dict[str, list[str]] = {}
    for field, value in (("start", start), ("end", end)):
        if not isinstance(value, dt.datetime) or timezone.is_naive(value):
            errors[field] = [_("Give a date and time with its time zone.")]
    if not errors and end < start:
        errors["end"] = [_("The end must not be before the start.")]
    if category not in (None, "") and category not in Category.values:
        errors["category"] = [_("Choose one of the categories.")]
    if channel not in (None, "") and channel not in Channel.values:
        errors["channel"] = [_("Choose one of the channels.")]
    number = None
    if tier not in (None, ""):
        try:
            number = int(tier)
        except (TypeError, ValueError):
            number = 0
        if number not in Tier.values:
            errors["tier"] = [_("Choose one of the tiers.")]
    if errors:
        raise InvalidInput(field_errors=errors)
    return number


def _in_range(field: str, start: dt.datetime, end: dt.datetime) -> Q:
    """``start <= field < end``."""
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


def _inquiry(prefix: str, *, category=None, channel=None, team=None) -> Q:
    """The inquiry filters, through ``prefix`` (``""`` on Inquiry itself, else ``"inquiry__"``);
    ``team``: the id of the team of the inquiry's assignee."""
    q = Q()
    if team:
        q &= Q(**{f"{prefix}assignee__team": team})
    if category:
        q &= Q(**{f"{prefix}category": category})
    if channel:
        q &= Q(**{f"{prefix}channel": channel})
    return q


def _within(queryset, when: str, start, end, *, category=None, channel=None, prefix="inquiry__"):
    """The rows whose ``when`` is in [start, end), of inquiries in ``category`` / ``channel``."""
    return queryset.filter(_inquiry(prefix, category=category, channel=channel), _in_range(when, start, end))


# --- the metrics -----------------------------------------------------------------------------------


def escalation_rate_by_rep(
    start: dt.datetime, end: dt.datetime, *, category: str | None = None, channel: str | None = None, tier=None
) -> list[RepRate]:
    """Per staff user who worked inquiries in [start, end): how many they worked, how many of
    those they escalated, and the rate. Read from the inquiries' timelines:

    - worked: distinct inquiries with at least one timeline event by the user in the range (a
      reply, note, call, status change, claim, remedy, escalation, return — anything they did
      on it; being assigned by someone else, or a rule's move, is not their work);
    - escalations: the "Escalated" events by the user in the range — the escalations they made
      by hand (a rule's escalation is the system's); escalated: the distinct inquiries among
      them, always part of worked (the escalation is itself an event by them);
    - rate = escalated / worked, from 0 to 1.

    ``tier``: only users at that tier now (``Tier.REP`` for the reps). ``category`` /
    ``channel``: the inquiry's, now. Highest rate first, then most worked. One query, one pass
    over the range's events."""
    tier = _check(start, end, category=category, channel=channel, tier=tier)
    by_staff = InquiryEvent.objects.filter(actor_user__isnull=False)
    events = _within(by_staff, "created_at", start, end, category=category, channel=channel)
    if tier:
        events = events.filter(actor_user__tier=tier)
    escalating = Q(type=EventType.ESCALATED)
    rows = _named(
        events.values("actor_user").annotate(
            worked=Count("inquiry", distinct=True),
            escalations=Count("id", filter=escalating),
            escalated=Count("inquiry", distinct=True, filter=escalating),
        ),
        "actor_user",
    ).order_by((Cast("escalated", FloatField()) / Cast("worked", FloatField())).desc(), "-worked", "username")
    return [
        RepRate(
            person=Person.from_row(row, "actor_user"),
            worked=row["worked"],
            escalations=row["escalations"],
            escalated=row["escalated"],
            rate=row["escalated"] / row["worked"],
        )
        for row in rows
    ]


def escalation_rate_by_category(
    start: dt.datetime, end: dt.datetime, *, category: str | None = None, channel: str | None = None, tier=None
) -> list[CategoryRate]:
    """Per inquiry category: inquiries opened in [start, end), how many of them were escalated
    at least once before ``end`` (at any time after opening, not only inside the range), and the
    rate. ``tier``: count only escalations that reached that tier or higher (e.g. "what share of
    billing inquiries reach a specialist"). Categories with no inquiry opened are left out. One
    query."""
    tier = _check(start, end, category=category, channel=channel, tier=tier)
    # An uncorrelated IN: PostgreSQL hashes the escalated inquiries once (a "hashed SubPlan")
    # instead of probing the escalations once per inquiry opened. An inquiry opened in the
    # range was escalated after it opened, so after ``start``: that bound keeps the set small.
    escalated = Escalation.objects.filter(created_at__lt=end, created_at__gte=start)
    if tier:
        escalated = escalated.filter(to_tier__gte=tier)
    rows = (
        _within(Inquiry.objects.all(), "created_at", start, end, category=category, channel=channel, prefix="")
        .values("category")
        .annotate(opened=Count("id"), escalated=Count("id", filter=Q(id__in=escalated.values("inquiry_id"))))
        .order_by("category")
    )
    return [CategoryRate(**row, rate=row["escalated"] / row["opened"]) for row in rows]


def time_at_tier(
    start: dt.datetime,
    end: dt.datetime,
    *,
    category: str | None = None,
    channel: str | None = None,
    tier=None,
    team: int | None = None,
    median: bool = True,
    aggregate=None,
) -> list[TierTime]:
    """Per tier: the periods an inquiry spent at it that ENDED in [start, end), how many, their
    average and (on PostgreSQL) median length in seconds. Open periods are left out: an inquiry
    still at a tier (or resolved there without being de-escalated) has no length yet.

    A period is read from an escalation row:
    - the time at ``from_tier`` before going up (``from_tier_seconds``), ending when it went up
      (``created_at``);
    - the time at ``to_tier`` (``seconds_at_tier``), ending when it left (``closed_at``) — down
      (returned, reassigned, de-escalated). When it left by going further up, the next
      escalation's time at its ``from_tier`` is that same period: counted there, once.
    The rep-tier time of inquiries never escalated is not here (it is the resolution time).

    An escalation row gives at most one period per tier (``to_tier > from_tier``), so each tier's
    statistics are plain aggregates over one CASE expression, with no subquery. Tiers without a
    period are left out. One query. ``median=False`` leaves the median out (None): it sorts every
    period, and the dashboard shows only the average. ``aggregate(queryset, **aggregates)``
    runs the query when given (the reports pass their rollups' one)."""
    tier = _check(start, end, category=category, channel=channel, tier=tier)
    tiers = [tier] if tier else Tier.values
    before_ended = _in_range("created_at", start, end)
    after_ended = _in_range("closed_at", start, end) & ~Q(outcome=Outcome.ESCALATED_FURTHER)
    rows = Escalation.objects.filter(
        _inquiry("inquiry__", category=category, channel=channel, team=team), before_ended | after_ended
    )
    median = median and has_median()
    aggregates = {}
    for t in tiers:
        seconds = Case(
            When(before_ended & Q(from_tier=t), then=F("from_tier_seconds")),
            When(after_ended & Q(to_tier=t), then=F("seconds_at_tier")),
            output_field=IntegerField(),
        )
        aggregates[f"periods_{t}"] = Count(seconds)
        aggregates[f"average_{t}"] = Avg(seconds, output_field=FloatField())
        if median:
            aggregates[f"median_{t}"] = Median(seconds)
    result = aggregate(rows, **aggregates) if aggregate else rows.aggregate(**aggregates)
    return [
        TierTime(
            tier=t,
            periods=result[f"periods_{t}"],
            average_seconds=float(result[f"average_{t}"]),
            median_seconds=float(result[f"median_{t}"]) if median else None,
        )
        for t in tiers
        if result[f"periods_{t}"]
    ]


def approvals(
    start: dt.datetime, end: dt.datetime, *, category: str | None = None, channel: str | None = None, tier=None
) -> list[ApprovalCounts]:
    """Per approval tier: the approval requests made in [start, end) (remedies above their
    proposer's authority: ``approval_tier`` set), and where each stood at ``end``:

    - granted: approved before ``end`` (state accepted — a request is accepted only by an
      approval — decided before ``end``); granted_changed: of those, at an amount other than
      the one asked (``requested_amount`` set);
    - denied: refused before ``end``; withdrawn: withdrawn by the proposer before ``end``;
    - waiting: the rest — still waiting, or decided only at or after ``end``.

    So a closed range's figures never change later; for a range ending now they are the
    current states. ``tier``: one approval tier. One query."""
    tier = _check(start, end, category=category, channel=channel, tier=tier)
    requests = _within(
        Remedy.objects.filter(approval_tier__isnull=False), "created_at", start, end, category=category, channel=channel
    )
    if tier:
        requests = requests.filter(approval_tier=tier)
    granted = Q(state=RemedyState.ACCEPTED, approval_decided_at__lt=end)
    rows = (
        requests.values(tier=F("approval_tier"))
        .annotate(
            requests=Count("id"),
            granted=Count("id", filter=granted),
            granted_changed=Count("id", filter=granted & Q(requested_amount__isnull=False)),
            denied=Count("id", filter=Q(state=RemedyState.DENIED, approval_decided_at__lt=end)),
            withdrawn=Count("id", filter=Q(state=RemedyState.WITHDRAWN, decided_at__lt=end)),
        )
        .annotate(waiting=F("requests") - F("granted") - F("denied") - F("withdrawn"))
        .order_by("tier")
    )
    return [ApprovalCounts(**row) for row in rows]


def returns_with_coaching(
    start: dt.datetime, end: dt.datetime, *, category: str | None = None, channel: str | None = None, tier=None
) -> Returns:
    """Escalations closed in [start, end) (the inquiry left the tier it was escalated to), how
    many of them were returned to the tier they came from with a coaching note, the share
    returned / closed, and the returns per coach and per coached person (most first; a return
    with nobody to coach — an automatic escalation — counts under a person with id None).
    ``tier``: escalations at that tier (returned from it). Counts only: the coaching words are
    never read. Three queries."""
    tier = _check(start, end, category=category, channel=channel, tier=tier)
    closed = _within(Escalation.objects.all(), "closed_at", start, end, category=category, channel=channel)
    if tier:
        closed = closed.filter(to_tier=tier)
    totals = closed.aggregate(closed=Count("id"), returned=Count("id", filter=Q(outcome=Outcome.RETURNED)))
    returned = closed.filter(outcome=Outcome.RETURNED)

    def per(prefix: str) -> list[PersonCount]:
        rows = _named(returned.values(prefix).annotate(returns=Count("id")), prefix).order_by(
            "-returns", F("username").asc(nulls_last=True)
        )
        return [PersonCount(person=Person.from_row(row, prefix), returns=row["returns"]) for row in rows]

    return Returns(
        closed=totals["closed"],
        returned=totals["returned"],
        share=_rate(totals["returned"], totals["closed"]),
        by_coach=per("coach"),
        by_coached=per("coached_user"),
    )


def automatic_escalations(
    start: dt.datetime, end: dt.datetime, *, category: str | None = None, channel: str | None = None
) -> list[RuleCounts]:
    """Per automatic-escalation rule: its firings in [start, end) (one per breach), how many
    moved the inquiry up a tier and how many did not (already at the rule's highest tier: it
    only notified). Rules that did not fire are left out. No ``tier`` filter: a firing that
    moved nothing has no tier to filter on. One query."""
    _check(start, end, category=category, channel=channel)
    rows = (
        _within(RuleFiring.objects.all(), "fired_at", start, end, category=category, channel=channel)
        .values("rule_id", name=F("rule__name"), trigger=F("rule__trigger"))
        .annotate(firings=Count("id"), moved=Count("id", filter=Q(moved=True)))
        .annotate(not_moved=F("firings") - F("moved"))
        .order_by("-firings", "name")
    )
    return [RuleCounts(**row) for row in rows]
