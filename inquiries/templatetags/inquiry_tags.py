"""Template helpers for inquiries: labels of stored codes, deadline colours, service states,
durations."""

import datetime as dt

from django import template
from django.db.models import IntegerChoices
from django.utils.translation import gettext as _

from fulfillment import clock
from fulfillment.tiers import Tier
from orders.enums import OrderAction

from .. import selectors
from ..enums import (
    CallDirection,
    CallOutcome,
    Category,
    Channel,
    FollowUpOutcome,
    FollowUpState,
    InquiryStatus,
    Priority,
    RemedyKind,
    RemedyState,
    ServiceState,
)
from ..models import DueKind

register = template.Library()

_CHOICES = {
    "status": InquiryStatus,
    "channel": Channel,
    "category": Category,
    "priority": Priority,
    "remedy": RemedyKind,
    "remedy_state": RemedyState,
    "call_direction": CallDirection,
    "call_outcome": CallOutcome,
    "due_kind": DueKind,
    "tier": Tier,
    "follow_up_outcome": FollowUpOutcome,
    "follow_up_state": FollowUpState,
}


@register.filter
def ilabel(value, kind: str):
    """``{{ d.new|ilabel:"status" }}`` → "Waiting on customer"; unknown codes as given.

    Also the cheap way to show a row's choice in a long list: ``get_FOO_display`` hashes every
    label of the field's choices (a translation each) on every call."""
    choices = _CHOICES.get(kind)
    if choices is None or value in (None, ""):
        return value
    try:
        return choices(int(value) if issubclass(choices, IntegerChoices) else value).label
    except (ValueError, TypeError):
        return value


@register.filter
def due_state(due_at):
    """ "breached" past the deadline, "soon" within two hours, else "fine" (CSS class names)."""
    if not due_at:
        return ""
    now = clock.now()
    if due_at < now:
        return "breached"
    if due_at - now <= dt.timedelta(hours=2):
        return "soon"
    return "fine"


@register.filter
def service_state(inquiry, now=None):
    """``{{ inq|service_state:now }}`` → "breached", "at_risk", "on_track", "paused" or ""
    (``selectors.service_state``; pass the view's ``now`` so a page judges every row alike)."""
    return selectors.service_state(inquiry, now or clock.now())


@register.filter
def state_label(state: str):
    """A service state (or a clock's "met" / "missed") in words."""
    if state == selectors.MET:
        return _("Met")
    if state == selectors.MISSED:
        return _("Missed")
    try:
        return ServiceState(state).label
    except ValueError:
        return ""


@register.filter
def duration(value, style: str = ""):
    """A timedelta in words a rep reads at a glance: "45 min", "3 h 20 min"; with ``"days"``,
    "2 d 4 h" (or "2 d") from a day on (wall-clock time; business time stays in hours). Under a
    minute is "under a minute"; negative values count as their size."""
    if value is None:
        return ""
    minutes = int(abs(value.total_seconds()) // 60)
    if minutes < 1:
        return _("under a minute")
    hours, minutes = divmod(minutes, 60)
    if style == "days" and hours >= 24:
        days, hours = divmod(hours, 24)
        if not hours:
            return _("%(days)d d") % {"days": days}
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)d min") % {"minutes": minutes}


@register.filter
def until(at, now=None):
    """The wall-clock time from ``now`` to ``at`` (negative when ``at`` has passed)."""
    if at is None:
        return None
    return at - (now or clock.now())


@register.filter
def iso(value):
    """An ISO timestamp stored in event details, as a datetime the ``date`` filter can format."""
    try:
        return dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


@register.filter
def olabel(action: str):
    """An order action's button label ("confirm" → "Confirm")."""
    try:
        return OrderAction(action).label
    except ValueError:
        return action
