"""Reads of the ladder shared by the review pages, the inquiry page's panel, the API and the
admin: the review queue, pending approvals, an inquiry's escalation history with the time at
each tier, and who may read a coaching note."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from fulfillment import clock
from fulfillment.actors import Actor, ActorKind, as_actor
from fulfillment.errors import PermissionDenied
from fulfillment.pagination import KeysetPage, keyset_page
from fulfillment.permissions import require
from fulfillment.tiers import Tier
from inquiries import permissions as inquiry_perms
from inquiries.enums import ACTIVE, RemedyState
from inquiries.models import Inquiry, Remedy

from . import permissions as perms
from .models import Escalation


def review_tier(actor: Actor, tier=None) -> int:
    """The tier whose review queue ``actor`` looks at: their own, or (asked for) one below it."""
    actor = as_actor(actor)
    require(actor, perms.REVIEW)
    own = actor.tier if actor.kind == ActorKind.USER else Tier.SUPERVISOR
    try:
        wanted = int(tier) if tier not in (None, "") else own
    except (TypeError, ValueError):
        wanted = own
    if wanted not in Tier.values or wanted > own:
        raise PermissionDenied()
    return wanted


def review_queue(
    *, actor: Actor, tier=None, cursor: str | None = None, size: int | None = None, unassigned: bool = False
) -> KeysetPage:
    """The active inquiries that reached ``tier`` (escalated there, or handed there), oldest
    target first — the nearest deadline, i.e. the one breached longest ago, at the top. Each
    row carries ``open_escalation`` (the escalation that brought it, or None). Three queries:
    the page, the escalations, their people. Walks the (tier, due_at, id) partial indexes."""
    tier = review_tier(actor, tier)
    queryset = Inquiry.objects.select_related("customer", "assignee").filter(status__in=ACTIVE, tier=tier)
    if unassigned:
        queryset = queryset.filter(assignee__isnull=True)
    page = keyset_page(queryset, cursor=cursor, size=size or settings.FD_PAGE_SIZE, key="due_at", ascending=True)
    attach_open_escalations(page.items)
    return page


def attach_open_escalations(inquiries: list[Inquiry]) -> None:
    opened = {
        e.inquiry_id: e
        for e in Escalation.objects.filter(inquiry__in=[i.pk for i in inquiries], closed_at__isnull=True)
        .select_related("from_user", "rule", "taken_by")
        .only(
            "id",
            "inquiry_id",
            "kind",
            "from_tier",
            "to_tier",
            "specialty",
            "reason",
            "reason_text",
            "skip_reason",
            "created_at",
            "from_user__username",
            "from_user__first_name",
            "from_user__last_name",
            "rule__name",
            "taken_by__username",
            "taken_by__first_name",
            "taken_by__last_name",
        )
    }
    for inquiry in inquiries:
        inquiry.open_escalation = opened.get(inquiry.pk)


def pending_approvals(*, actor: Actor, tier=None, limit: int = 50) -> list[Remedy]:
    """The first ``limit`` of ``approval_requests`` (one query)."""
    return list(approval_requests(actor=actor, tier=tier)[:limit])


def approval_requests(*, actor: Actor, tier=None) -> QuerySet[Remedy]:
    """Approval requests that ``tier`` may answer — those waiting on it and on the tiers below
    it (a supervisor sees every request; a senior rep those of the senior tier) — the longest
    waiting first: a request's own clock is the time it has waited (the inquiry's due state is
    shown beside it). Walks the (approval_tier, created_at, id) partial index: ordering by the
    inquiries' deadlines instead joined and sorted every waiting request (50 ms at 5,000)."""
    tier = review_tier(actor, tier)
    return (
        Remedy.objects.filter(state=RemedyState.PENDING_APPROVAL, approval_tier__lte=tier)
        .select_related("inquiry", "inquiry__customer", "order", "proposed_by")
        .order_by("created_at", "id")
    )


def approvals_for_inquiry(inquiry: Inquiry) -> list[Remedy]:
    return list(
        Remedy.objects.filter(inquiry=inquiry, state=RemedyState.PENDING_APPROVAL)
        .select_related("order", "proposed_by")
        .order_by("created_at", "id")
    )


def may_approve(actor: Actor, remedy: Remedy) -> bool:
    """Show the approve and deny buttons? (The services decide; this only mirrors them.)"""
    actor = as_actor(actor)
    if actor.kind != ActorKind.USER or actor.user is None or not inquiry_perms.APPROVE.allows(actor):
        return False
    return (
        remedy.state == RemedyState.PENDING_APPROVAL
        and remedy.proposed_by_id != actor.user.pk
        and (actor.tier or 0) >= (remedy.approval_tier or 99)
    )


# --- coaching --------------------------------------------------------------------------------------


def may_read_coaching(viewer, escalation: Escalation) -> bool:
    """A coaching note is for the person coached, the coach, and those above the coached
    person's tier (their seniors and supervisors). Other reps never read it."""
    if viewer is None or not viewer.is_active:
        return False
    if viewer.is_superuser:
        return True
    if viewer.pk in (escalation.coached_user_id, escalation.coach_id):
        return True
    coached_tier = escalation.coached_user.tier if escalation.coached_user_id else escalation.outcome_tier
    return (viewer.tier or 0) > (coached_tier or Tier.REP)


def coaching_for(user, *, limit: int = 50) -> list[Escalation]:
    """The coaching notes addressed to ``user``, newest first."""
    return list(
        Escalation.objects.filter(coached_user=user)
        .exclude(coaching_note="")
        .select_related("inquiry", "coach")
        .order_by("-closed_at", "-id")[:limit]
    )


# --- history -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierPeriod:
    tier: int
    start: dt.datetime
    end: dt.datetime | None  # None: still there
    seconds: int

    @property
    def label(self) -> str:
        return str(Tier(self.tier).label)


def history(inquiry: Inquiry) -> list[Escalation]:
    """Every escalation of the inquiry, oldest first, with its people."""
    return list(
        Escalation.objects.filter(inquiry=inquiry)
        .select_related("from_user", "to_user", "rule", "taken_by", "coached_user", "coach")
        .order_by("created_at", "id")
    )


def tier_periods(
    inquiry: Inquiry, escalations: list[Escalation], *, now: dt.datetime | None = None
) -> list[TierPeriod]:
    """The time the inquiry spent at each tier, in order: from opening at the rep tier, each
    escalation up and each return, reassignment or de-escalation down. An inquiry that is
    resolved or closed stops its last period at that moment."""
    now = now or clock.now()
    moves: list[tuple[dt.datetime, int]] = []
    for e in escalations:
        moves.append((e.created_at, e.to_tier))
        # a move down ends the period at the tier; going further up starts the next escalation,
        # and a resolution ends nothing on the ladder
        if e.closed_at is not None and e.outcome not in ("escalated_further", "resolved") and e.outcome_tier:
            moves.append((e.closed_at, e.outcome_tier))
    moves.sort(key=lambda m: m[0])
    end_of_all = inquiry.closed_at or inquiry.resolved_at if inquiry.status not in ACTIVE else None
    periods: list[TierPeriod] = []
    tier, start = Tier.REP.value, inquiry.created_at
    for at, new_tier in moves:
        periods.append(TierPeriod(tier, start, at, max(int((at - start).total_seconds()), 0)))
        tier, start = new_tier, at
    stop = end_of_all or now
    periods.append(TierPeriod(tier, start, end_of_all, max(int((stop - start).total_seconds()), 0)))
    return periods


def escalations_list(*, actor: Actor) -> QuerySet[Escalation]:
    """The API's list: every escalation, with what its rows show (no coaching words)."""
    actor = as_actor(actor)
    require(actor, perms.VIEW)
    return Escalation.objects.select_related("inquiry", "from_user", "to_user", "rule", "taken_by").defer(
        "coaching_note"
    )
