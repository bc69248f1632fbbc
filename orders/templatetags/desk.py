"""Template helpers: show stored codes (statuses, departments) as their translated labels."""

from django import template

from ..enums import Department, HandoffState, OrderStatus, ServiceLevel, ShipmentStatus

register = template.Library()

_CHOICES = {
    "status": OrderStatus,
    "handoff_state": HandoffState,
    "department": Department,
    "shipment_status": ShipmentStatus,
    "service_level": ServiceLevel,
}


@register.filter
def label(value, kind: str):
    """``{{ d.new|label:"status" }}`` → "Shipped" (in the user's language); unknown codes as given."""
    choices = _CHOICES.get(kind)
    if choices is None or value in (None, ""):
        return value
    try:
        return choices(value).label
    except ValueError:
        return value
