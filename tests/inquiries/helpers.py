"""Snapshots that prove a refused inquiry action changed nothing."""

from __future__ import annotations

import pytest

from inquiries.models import (
    Callback,
    CallLog,
    Inquiry,
    InquiryEvent,
    InquiryOrder,
    Message,
    PlanStep,
    Remedy,
)
from orders.models import Order, OrderEvent, Payment


def snapshot(inquiry: Inquiry) -> dict:
    """The inquiry row (status, version, updated_at, deadlines …) and every row hanging off it."""
    pk = inquiry.pk
    return {
        "inquiry": Inquiry.objects.values().get(pk=pk),
        "events": list(InquiryEvent.objects.filter(inquiry_id=pk).values_list("id", flat=True)),
        "messages": list(Message.objects.filter(inquiry_id=pk).values()),
        "calls": list(CallLog.objects.filter(inquiry_id=pk).values()),
        "callbacks": list(Callback.objects.filter(inquiry_id=pk).values()),
        "remedies": list(Remedy.objects.filter(inquiry_id=pk).values()),
        "steps": list(PlanStep.objects.filter(inquiry_id=pk).values()),
        "orders": list(InquiryOrder.objects.filter(inquiry_id=pk).values_list("order_id", flat=True)),
        "tags": sorted(Inquiry.objects.get(pk=pk).tags.values_list("name", flat=True)),
    }


def orders_snapshot() -> dict:
    """Every order, payment and order event: a refused remedy must not touch them."""
    return {
        "orders": list(Order.objects.order_by("pk").values()),
        "payments": list(Payment.objects.order_by("pk").values()),
        "events": list(OrderEvent.objects.order_by("pk").values_list("id", flat=True)),
    }


def events_of(inquiry: Inquiry, type_: str | None = None) -> list[InquiryEvent]:
    qs = InquiryEvent.objects.filter(inquiry_id=inquiry.pk).order_by("id")
    return list(qs.filter(type=type_) if type_ else qs)


def last_event(inquiry: Inquiry, *, offset: int = 0) -> InquiryEvent:
    """The newest event on the timeline (``offset=1``: the one before it)."""
    return InquiryEvent.objects.filter(inquiry_id=inquiry.pk).order_by("-id")[offset]


def fresh(inquiry: Inquiry) -> Inquiry:
    return Inquiry.objects.get(pk=inquiry.pk)


def refused(inquiry: Inquiry, error, call):
    """``call()`` raises ``error`` and leaves the inquiry, its rows and every order as they were."""
    before, orders_before = snapshot(inquiry), orders_snapshot()
    with pytest.raises(error) as raised:
        call()
    assert snapshot(inquiry) == before
    assert orders_snapshot() == orders_before
    return raised.value
