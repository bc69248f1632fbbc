"""Template helpers for inquiries: labels of stored codes, deadline colours."""

import datetime as dt

from django import template

from fulfillment import clock
from orders.enums import OrderAction

from ..enums import CallDirection, CallOutcome, Category, Channel, InquiryStatus, Priority, RemedyKind, RemedyState

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
}


@register.filter
def ilabel(value, kind: str):
    """``{{ d.new|ilabel:"status" }}`` → "Waiting on customer"; unknown codes as given."""
    choices = _CHOICES.get(kind)
    if choices is None or value in (None, ""):
        return value
    try:
        return choices(int(value) if choices is Priority else value).label
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
