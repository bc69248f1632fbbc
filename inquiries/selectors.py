"""Reads that the desk, the API and (later) tasks share: queues, the inquiry page, search."""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import F, Prefetch, Q, QuerySet

from fulfillment import clock
from fulfillment.actors import Actor, ActorKind, as_actor
from fulfillment.permissions import require
from fulfillment.tiers import Tier
from orders.models import Customer, Order, phone_digits

from . import permissions as perms
from .enums import ACTIVE, CallbackState, MessageKind
from .models import Callback, Inquiry, InquiryEvent, InquiryOrder, Message, parse_reference


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


def by_deadline(queryset: QuerySet[Inquiry]) -> QuerySet[Inquiry]:
    return queryset.order_by(F("due_at").asc(nulls_last=True), "id")


def inquiry_queue(*, actor: Actor, queue: str) -> QuerySet[Inquiry]:
    """One queue, nearest deadline first. Staff see the work at or below their tier."""
    actor = as_actor(actor)
    qs = _base(actor)
    user = actor.user
    tier = actor.tier if actor.kind == ActorKind.USER else Tier.SUPERVISOR
    if queue == Queue.MINE:
        qs = qs.filter(assignee=user, status__in=ACTIVE) if user else qs.none()
    elif queue == Queue.UNASSIGNED:
        # An index per tier: one range scan each, merged by the planner.
        qs = qs.filter(status__in=ACTIVE, assignee__isnull=True, tier__lte=tier or 0)
    elif queue == Queue.CALLBACKS:
        now = clock.now()
        due = Callback.objects.filter(state=CallbackState.PENDING, due_at__lte=now + _soon())
        if user:
            due = due.filter(Q(owner=user) | Q(owner__isnull=True, inquiry__assignee=user))
        qs = qs.filter(pk__in=due.values("inquiry_id"), status__in=ACTIVE)
        return qs.order_by(F("next_callback_at").asc(nulls_last=True), "id")
    elif queue == Queue.TEAM:
        qs = qs.filter(status__in=ACTIVE, tier__lte=tier or 0)
    else:
        return qs.order_by("-created_at", "-id")
    return by_deadline(qs)


def _soon():
    import datetime as dt

    return dt.timedelta(hours=1)


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


def _tsquery(text: str) -> str:
    """Words joined with AND, each a prefix match; nothing a user types can break the query."""
    words = _WORDS.findall(text.lower())[:8]
    return " & ".join(f"{w}:*" for w in words)


#: How many of the newest subjects are read before the subject index is asked.
RECENT_SUBJECTS = 3000


def _subject_matches(cursor, query: str, limit: int) -> list[int]:
    """The newest ``limit`` inquiries whose subject matches ``query``.

    A word in many subjects is found among the newest few thousand. For any other the GIN index
    answers, ordered by ``id + 0`` so the planner cannot walk the primary key from the newest:
    it guesses at least 0.3 % of subjects for a word it has no statistics for, and for a word in
    none it would read all 1,000,000 (bench/README.md, "Inquiries")."""
    cursor.execute(
        "SELECT id FROM (SELECT id, subject FROM inquiries_inquiry ORDER BY id DESC LIMIT %s) recent"
        " WHERE to_tsvector('simple', subject) @@ to_tsquery('simple', %s) ORDER BY id DESC LIMIT %s",
        [RECENT_SUBJECTS, query, limit],
    )
    ids = [row[0] for row in cursor.fetchall()]
    if len(ids) < limit:
        cursor.execute(
            "SELECT id FROM inquiries_inquiry WHERE to_tsvector('simple', subject) @@ to_tsquery('simple', %s)"
            " ORDER BY id + 0 DESC LIMIT %s",
            [query, limit],
        )
        ids = [row[0] for row in cursor.fetchall()]
    return ids


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
        query = _tsquery(q)
        if query:
            with connection.cursor() as cursor:
                ids += _subject_matches(cursor, query, limit)
                cursor.execute(
                    "SELECT DISTINCT inquiry_id FROM ("
                    " SELECT inquiry_id FROM inquiries_message"
                    " WHERE to_tsvector('simple', body) @@ to_tsquery('simple', %s)"
                    " AND (%s OR kind <> %s)"
                    " ORDER BY id DESC LIMIT %s) m",
                    [query, include_notes, MessageKind.NOTE.value, limit],
                )
                ids += [row[0] for row in cursor.fetchall()]
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
