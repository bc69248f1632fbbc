"""Reads that the desk, the API and (later) tasks share: queues, the inquiry page, search."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re

from django.db import connection
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet

from fulfillment import clock
from fulfillment.actors import Actor, ActorKind, as_actor
from fulfillment.permissions import require
from fulfillment.tiers import Tier
from orders.models import Customer, Order, phone_digits

from . import permissions as perms
from .enums import ACTIVE, CallbackState, InquiryStatus, MessageKind, ServiceState, SlaFilter
from .models import (
    BusinessCalendar,
    Callback,
    Inquiry,
    InquiryEvent,
    InquiryOrder,
    Message,
    SearchTerm,
    ServicePolicy,
    TargetKind,
    parse_reference,
)
from .services import targets
from .targets import clocks

#: The callbacks queue shows promises due within this time (and every overdue one).
CALLBACKS_AHEAD = dt.timedelta(hours=1)


class Queue:
    MINE = "mine"
    UNASSIGNED = "unassigned"
    CALLBACKS = "callbacks"
    TEAM = "team"
    ALL = "all"

    CHOICES = (MINE, UNASSIGNED, CALLBACKS, TEAM, ALL)


def _base(actor: Actor) -> QuerySet[Inquiry]:
    require(actor, perms.VIEW)
    return Inquiry.objects.select_related("customer", "assignee")


def with_order_at_risk(queryset: QuerySet[Inquiry]) -> QuerySet[Inquiry]:
    """``order_at_risk``: a linked order is flagged at risk (the queue's marker), in the same
    query — a subquery per row of the page on the link's unique index, never a query per row."""
    flagged = InquiryOrder.objects.filter(inquiry_id=OuterRef("pk"), order__risk_flagged_at__isnull=False)
    return queryset.annotate(order_at_risk=Exists(flagged))


def by_deadline(queryset: QuerySet[Inquiry]) -> QuerySet[Inquiry]:
    return queryset.order_by(F("due_at").asc(nulls_last=True), "id")


def sla_condition(sla: str, *, now: dt.datetime) -> Q:
    """The inquiries at risk, breached or either at ``now`` (``sla``: a ``SlaFilter`` value), as
    plain comparisons on the columns the save keeps, so every queue still walks its own
    (…, due_at, id) index and filters ``warn_at`` on the way (there is deliberately no index on
    ``warn_at``: the planner misjudged it and sorted every match, see migration 0008).

    A deadline's warning instant always comes before it (the warning share is below 100 %), so
    every breached inquiry has ``warn_at <= now`` too: "attention" is that one comparison."""
    if sla == SlaFilter.AT_RISK:
        return Q(warn_at__lte=now, due_at__gt=now)
    if sla == SlaFilter.BREACHED:
        return Q(due_at__lte=now)
    if sla == SlaFilter.ATTENTION:
        return Q(warn_at__lte=now)
    raise ValueError(f"unknown sla filter {sla!r}")


def sla_filter(queryset: QuerySet[Inquiry], sla: str, *, now: dt.datetime) -> QuerySet[Inquiry]:
    """``queryset`` narrowed by ``sla_condition`` (an empty ``sla`` leaves it alone). Only active
    inquiries have deadlines (R27); saying so lets PostgreSQL use the partial indexes."""
    if not sla:
        return queryset
    return queryset.filter(sla_condition(sla, now=now), status__in=ACTIVE)


def service_state(inquiry: Inquiry, now: dt.datetime) -> str:
    """R28 from the row alone (no query): "breached" once ``due_at`` has passed, "at_risk" once
    ``warn_at`` has, else "on_track"; "paused" while waiting on the customer with nothing due;
    "" for a resolved or closed inquiry, or an active one with nothing timed."""
    if inquiry.status not in ACTIVE:
        return ""
    if inquiry.due_at is None:
        return ServiceState.PAUSED.value if inquiry.status == InquiryStatus.WAITING_CUSTOMER else ""
    if inquiry.due_at <= now:
        return ServiceState.BREACHED.value
    if inquiry.warn_at is not None and inquiry.warn_at <= now:
        return ServiceState.AT_RISK.value
    return ServiceState.ON_TRACK.value


def inquiry_queue(*, actor: Actor, queue: str, sla: str = "") -> QuerySet[Inquiry]:
    """One queue, nearest deadline first. Staff see the work at or below their tier. ``sla``
    narrows any queue to the inquiries at risk, breached or either (``sla_condition``)."""
    actor = as_actor(actor)
    now = clock.now()
    qs = with_order_at_risk(_base(actor))
    if sla:  # every queue but "all" already keeps to active inquiries (the status once: see below)
        qs = qs.filter(sla_condition(sla, now=now))
    user = actor.user
    tier = actor.tier if actor.kind == ActorKind.USER else Tier.SUPERVISOR
    if queue == Queue.MINE:
        qs = qs.filter(assignee=user, status__in=ACTIVE) if user else qs.none()
    elif queue == Queue.UNASSIGNED:
        # An index per tier: one range scan each, merged by the planner.
        qs = qs.filter(status__in=ACTIVE, assignee__isnull=True, tier__lte=tier or 0)
    elif queue == Queue.CALLBACKS:
        due = Callback.objects.filter(state=CallbackState.PENDING, due_at__lte=now + CALLBACKS_AHEAD)
        if user:
            due = due.filter(Q(owner=user) | Q(owner__isnull=True, inquiry__assignee=user))
        qs = qs.filter(pk__in=due.values("inquiry_id"), status__in=ACTIVE)
        return qs.order_by(F("next_callback_at").asc(nulls_last=True), "id")
    elif queue == Queue.TEAM:
        qs = qs.filter(status__in=ACTIVE, tier__lte=tier or 0)
    else:
        # A repeated condition would count twice in PostgreSQL's row estimate and steer it off
        # the (…, due_at, id) indexes, so the status is added here, once, and only with a filter.
        return (qs.filter(status__in=ACTIVE) if sla else qs).order_by("-created_at", "-id")
    return by_deadline(qs)


def timeline(inquiry: Inquiry, *, limit: int | None = None, before_id: int | None = None) -> list[InquiryEvent]:
    """The inquiry's one timeline, oldest first; with ``limit`` the newest ``limit`` entries."""
    qs = InquiryEvent.objects.filter(inquiry=inquiry).select_related("message", "call", "actor_user")
    qs = qs.prefetch_related("message__attachments")
    if before_id:
        qs = qs.filter(pk__lt=before_id)
    if limit:
        rows = list(qs.order_by("-created_at", "-id")[:limit])
        rows.reverse()
        return rows
    return list(qs.order_by("created_at", "id"))


def inquiry_for_page(*, actor: Actor, pk: int) -> Inquiry:
    actor = as_actor(actor)
    return (
        _base(actor)
        .select_related("policy", "calendar")  # named by the service-targets panel
        .prefetch_related(
            "tags",
            Prefetch(
                "order_links",
                queryset=InquiryOrder.objects.select_related("order").prefetch_related(
                    "order__lines", "order__shipments", "order__handoffs"
                ),
            ),
            "plan_steps__owner",
            "remedies__order",
            "remedies__replacement_order",
            Prefetch("callbacks", queryset=Callback.objects.filter(state=CallbackState.PENDING)),
        )
        .get(pk=pk)
    )


# --- service targets on the inquiry page ---------------------------------------------------------

#: Clock standings beyond the inquiry's service states: a stopped clock met or missed its target.
MET = "met"
MISSED = "missed"


@dataclasses.dataclass(frozen=True, slots=True)
class ClockView:
    """One of the three target clocks at a given time, ready to show. Durations are business
    time on the governing calendar; ``state`` is the clock's own (running, paused, stopped, or
    "" when it has not started); ``standing`` is on_track / at_risk / breached / paused / met /
    missed, or "" when there is nothing to judge (not started, or no target)."""

    kind: str
    label: str
    state: str = ""
    standing: str = ""
    cycle: int = 0
    target: dt.timedelta | None = None
    used: dt.timedelta | None = None
    #: Business time left before the target (≥ 0), or by how much it is over (> 0); one is None.
    left: dt.timedelta | None = None
    over: dt.timedelta | None = None
    started_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    warn_at: dt.datetime | None = None
    stopped_at: dt.datetime | None = None
    met: bool | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class TargetClocks:
    """What the inquiry page's "Service targets" panel shows."""

    clocks: list[ClockView]
    state: str  # the inquiry's service state (``service_state``)
    policy: str  # the governing policy's name, "" when none applies
    calendar: str
    time_zone: str  # the calendar's time zone
    now: dt.datetime


def _standing(clock: clocks.Clock, now: dt.datetime, left: dt.timedelta | None) -> str:
    if clock.state == clocks.STOPPED:
        return "" if clock.met is None else (MET if clock.met else MISSED)
    if clock.target_minutes is None:
        return ""
    if clock.state == clocks.PAUSED:
        return ServiceState.PAUSED.value
    if (clock.due_at is not None and clock.due_at <= now) or (left is not None and left <= dt.timedelta(0)):
        return ServiceState.BREACHED.value
    if clock.warn_at is not None and clock.warn_at <= now:
        return ServiceState.AT_RISK.value
    return ServiceState.ON_TRACK.value


def _clock_view(kind: str, clock: clocks.Clock | None, calendar, now: dt.datetime) -> ClockView:
    label = TargetKind(kind).label
    if clock is None:
        return ClockView(kind=kind, label=label)
    used = clock.used(calendar, now)
    left = clock.left(calendar, now)
    return ClockView(
        kind=kind,
        label=label,
        state=clock.state,
        standing=_standing(clock, now, left),
        cycle=clock.cycle,
        target=clock.target,
        used=used,
        left=left if left is not None and left >= dt.timedelta(0) else None,
        over=-left if left is not None and left < dt.timedelta(0) else None,
        started_at=clock.started_at,
        # A paused clock has no deadline: it moves with the pause (R23).
        due_at=clock.due_at if clock.state != clocks.PAUSED else None,
        warn_at=clock.warn_at if clock.state == clocks.RUNNING else None,
        stopped_at=clock.stopped_at,
        met=clock.met,
    )


def target_clocks(inquiry: Inquiry, *, now: dt.datetime | None = None) -> TargetClocks:
    """The first-response, next-reply and resolution clocks of ``inquiry`` at ``now``, with the
    policy and calendar that govern them: the inquiry page's panel.

    Reads what ``targets.evaluate`` reads — the policy with its calendar, the policy's target
    row, the inquiry's timeline facts: three queries, plus two the first time this process meets
    a calendar version (its hours and holidays, then cached). Names come from the inquiry's own
    ``policy`` and ``calendar`` (joined by ``inquiry_for_page``); only when they differ from what
    governs it now (a policy not yet recorded, or a calendar changed and no recompute has reached
    the inquiry yet) is a name read (one query each)."""
    now = now or clock.now()
    applied, result = targets.evaluate(inquiry)
    state = service_state(inquiry, now)
    if applied.calendar is None or result is None:
        return TargetClocks(clocks=[], state=state, policy="", calendar="", time_zone="", now=now)
    if inquiry.policy_id == applied.policy_id:
        policy = inquiry.policy
    else:  # chosen just now (no policy recorded yet)
        policy = ServicePolicy.objects.only("name").get(pk=applied.policy_id)
    if inquiry.calendar_id == applied.calendar_id:
        calendar = inquiry.calendar
    else:  # the policy moved to another calendar; the recompute has not reached this inquiry yet
        calendar = BusinessCalendar.objects.only("name").get(pk=applied.calendar_id)
    views = [_clock_view(kind, result.current(kind), applied.calendar, now) for kind in clocks.KINDS]
    return TargetClocks(
        clocks=views,
        state=state,
        policy=policy.name,
        calendar=calendar.name,
        time_zone=applied.calendar.time_zone_name,
        now=now,
    )


def customer_inquiries(customer_id: int, *, exclude: int | None = None, limit: int = 10) -> list[Inquiry]:
    qs = Inquiry.objects.filter(customer_id=customer_id).order_by("-created_at")
    if exclude:
        qs = qs.exclude(pk=exclude)
    return list(qs.only("id", "subject", "status", "created_at", "channel")[:limit])


def customer_orders(customer_id: int, *, limit: int = 10) -> list[Order]:
    return list(
        Order.objects.filter(customer_id=customer_id)
        .order_by("-placed_at", "-id")
        .only("id", "number", "status", "placed_at", "total", "currency", "expedite")[:limit]
    )


def open_inquiries_of(customer_id: int) -> list[Inquiry]:
    return list(
        Inquiry.objects.filter(customer_id=customer_id, status__in=ACTIVE)
        .order_by("-created_at")
        .only("id", "subject", "status", "created_at")[:20]
    )


# --- search ------------------------------------------------------------------------------------

_WORDS = re.compile(r"\w+", re.UNICODE)


#: A word still being typed becomes at most this many whole words, the most frequent first, and
#: no more than about this many messages' worth of them: completions, not every word it starts.
EXPANSIONS = 40
EXPANSION_DOCUMENTS = 10_000
#: A fragment shorter than this is too ambiguous to complete: it is left out of the text search.
MIN_FRAGMENT = 3
_LEXEME = re.compile(r"^\w+$", re.UNICODE)


def _expansions(start: str) -> tuple[list[str], int]:
    """Whole words of the vocabulary that begin with ``start``, and how many documents they are in."""
    rows = SearchTerm.objects.filter(word__startswith=start).order_by("word").values_list("word", "documents")
    candidates = sorted(((n, word) for word, n in rows[:5000] if _LEXEME.match(word)), reverse=True)
    chosen, documents = [], 0
    for n, word in candidates[:EXPANSIONS]:
        if chosen and documents + n > EXPANSION_DOCUMENTS:
            break
        chosen.append(word)
        documents += n
    return chosen, documents


def _tsquery(text: str, *, prefix: bool = False) -> tuple[str, int | None]:
    """The full-text query for ``text``, and how many rows it matches when that is known.

    Words are joined with AND. With ``prefix`` the last word is taken as the start of a word
    ("Jennifer Cla"): it becomes an OR of its most frequent completions from the vocabulary, which
    the GIN index answers exactly; a start the vocabulary does not know becomes a prefix match
    (correct, but PostgreSQL then rechecks every candidate row); a fragment of one or two letters
    is left out. Nothing a user types can break the query: only \\w+ words reach it."""
    words = _WORDS.findall(text.lower())[:8]
    if not (prefix and words):
        return " & ".join(words), None
    fragment = words.pop()
    if len(fragment) < MIN_FRAGMENT:
        return " & ".join(words), None
    known, documents = _expansions(fragment)
    if not known:
        return " & ".join([*words, fragment + ":*"]), None
    return " & ".join([*words, "(" + " | ".join(known) + ")"]), (documents if not words else None)


#: Above this many matches, walking the newest rows finds a page of them soonest; below it, the
#: GIN index does (bench/README.md, "Inquiries": both cost about 200 ms at the crossing).
WALK_ABOVE_ROWS = 20_000


def _newest_matches(
    cursor, *, table: str, column: str, select: str, query: str, limit: int, where="", params=(), estimate=None
):
    """``select`` of the newest ``limit`` rows of ``table`` whose ``column`` matches ``query``.

    Which way is fast depends on how many rows match, and PostgreSQL's own choice goes wrong
    both ways: it walks the primary key newest-first for a customer's name that matches a few
    thousand old messages (reading 150,000 bodies, 2.9 s), and for a word it has no statistics
    for. So its estimate is asked first (EXPLAIN, well under a millisecond) and the plan is
    chosen here: many matches → the newest-first walk; few → the GIN index, ordered by
    ``id + 0`` so the walk is not an option."""
    match = f"to_tsvector('simple', {column}) @@ to_tsquery('simple', %s)"
    extra = f" AND {where}" if where else ""
    # table, column, select and where are constants of this module, never input; input is a parameter.
    if estimate is None:  # the vocabulary's count when we have one, else PostgreSQL's guess
        cursor.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {table} WHERE {match}{extra}", [query, *params])  # noqa: S608
        plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        estimate = plan[0]["Plan"]["Plan Rows"]
    order = "id DESC" if estimate > WALK_ABOVE_ROWS else "id + 0 DESC"
    cursor.execute(
        f"SELECT {select} FROM {table} WHERE {match}{extra} ORDER BY {order} LIMIT %s",  # noqa: S608
        [query, *params, limit],
    )
    return [row[0] for row in cursor.fetchall()]


def search_inquiries(*, actor: Actor, q: str, limit: int = 50, include_notes: bool = True) -> list[Inquiry]:
    """Inquiries matching ``q`` in their subject, their messages or their customer.

    PostgreSQL: full text over GIN indexes (``inquiry_subject_fts``, ``message_body_fts``),
    resolved to short id lists first. SQLite: a plain case-insensitive containment.
    ``include_notes=False`` leaves internal notes out (API clients never see them).
    """
    actor = as_actor(actor)
    q = (q or "").strip()[:200]
    if not q:
        return []
    ids: list[int] = []
    ref = parse_reference(q)
    if ref:
        ids.append(ref)
    digits = phone_digits(q)
    customer_q = Q(name__icontains=q) | Q(email__iexact=q)
    if len(digits) >= 6:
        customer_q |= Q(phone_digits__endswith=digits[-10:])
    if connection.vendor == "postgresql":
        # Whole words first: exact GIN lookups, milliseconds even for a name in thousands of
        # messages. Only when they find nothing, the last word as the start of a word (someone
        # still typing, or part of a word), expanded through the vocabulary (see _tsquery).
        tried = set()
        for prefix in (False, True):
            query, estimate = _tsquery(q, prefix=prefix)  # the prefix pass (a vocabulary lookup) only if needed
            if not query or query in tried:
                continue
            tried.add(query)
            with connection.cursor() as cursor:
                found = _newest_matches(
                    cursor,
                    table="inquiries_inquiry",
                    column="subject",
                    select="id",
                    query=query,
                    limit=limit,
                    estimate=estimate,
                )
                found += _newest_matches(
                    cursor,
                    table="inquiries_message",
                    column="body",
                    select="inquiry_id",
                    query=query,
                    limit=limit,
                    where="(%s OR kind <> %s)",
                    params=(include_notes, MessageKind.NOTE.value),
                    estimate=estimate,
                )
            if found:
                ids += found
                break
    else:
        ids += list(Inquiry.objects.filter(subject__icontains=q).values_list("id", flat=True)[:limit])
        messages = Message.objects.filter(body__icontains=q)
        if not include_notes:
            messages = messages.exclude(kind=MessageKind.NOTE)
        ids += list(messages.values_list("inquiry_id", flat=True).distinct()[:limit])
    customer_ids = list(Customer.objects.filter(customer_q).values_list("id", flat=True)[:limit])
    if customer_ids:
        ids += list(
            Inquiry.objects.filter(customer_id__in=customer_ids).order_by("-id").values_list("id", flat=True)[:limit]
        )
    return list(_base(actor).filter(pk__in=set(ids)).order_by("-created_at", "-id")[:limit])
