"""Template helpers for the ladder: the inquiry page's escalation panel (an inclusion tag, so
inquiries' Python never imports this app) and labels of stored codes in timeline events."""

from __future__ import annotations

import datetime as dt

from django import template

from fulfillment.actors import as_actor
from fulfillment.permissions import can
from fulfillment.tiers import Specialty, Tier
from inquiries.enums import RemedyState
from inquiries.templatetags.inquiry_tags import duration

from .. import selectors
from ..enums import Outcome, Reason
from ..permissions import ESCALATE, REVIEW

register = template.Library()

_CHOICES = {"reason": Reason, "outcome": Outcome, "specialty": Specialty}


@register.filter
def elabel(value, kind: str):
    """``{{ d.reason|elabel:"reason" }}`` → "Needs specialist knowledge"; unknown codes as given.
    (Tiers: inquiries' ``ilabel:"tier"``.)"""
    choices = _CHOICES.get(kind)
    if choices is None or value in (None, ""):
        return value
    try:
        return choices(value).label
    except (ValueError, TypeError):
        return value


@register.filter
def seconds(value, style: str = "days"):
    """A number of seconds in words ("3 h 20 min", "2 d 4 h")."""
    if value in (None, ""):
        return ""
    return duration(dt.timedelta(seconds=int(value)), style)


def _actions(user, inquiry, opened) -> dict:
    """Which ladder actions to offer (the services decide again when one is sent)."""
    actor = as_actor(user)
    tier = actor.tier or 0
    workable = inquiry.is_active and inquiry.tier <= tier
    review = workable and can(actor, REVIEW)
    return {
        "escalate": workable and can(actor, ESCALATE) and Tier.next_above(inquiry.tier) is not None,
        "take_over": review and inquiry.assignee_id != user.pk,
        "return": review and opened is not None,
        "reassign": review and inquiry.tier > Tier.REP,
        "de_escalate": review and inquiry.tier > Tier.REP,
    }


@register.inclusion_tag("escalation/_panel.html", takes_context=True)
def escalation_panel(context, inquiry, user):
    """``{% escalation_panel inquiry request.user %}``: the tier, the open escalation, the history
    with the time at each tier, coaching notes for those who may read them, the approval
    requests (approve / deny for those who may) and the ladder actions. One query (the
    history); the requests come from the page's prefetched remedies."""
    escalations = selectors.history(inquiry)
    periods = selectors.tier_periods(inquiry, escalations)
    opened = next((e for e in escalations if e.closed_at is None), None)
    rows = [
        {"e": e, "coaching": e.coaching_note if e.coaching_note and selectors.may_read_coaching(user, e) else ""}
        for e in reversed(escalations)
    ]
    requests = [
        {"remedy": r, "may_decide": selectors.may_approve(user, r)}
        for r in inquiry.remedies.all()
        if r.state == RemedyState.PENDING_APPROVAL
    ]
    return {
        "inquiry": inquiry,
        "user": user,
        "opened": opened,
        "at_tier": periods[-1],
        "periods": periods,
        "rows": rows,
        "requests": requests,
        "may": _actions(user, inquiry, opened),
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }
