"""An inquiry resolved at the tier it was escalated to: the sweep closes its escalation with the
outcome "resolved at this tier" and the time spent there until the resolution."""

from __future__ import annotations

import datetime as dt

import pytest

from escalation import selectors, services
from escalation.enums import Outcome
from escalation.models import Escalation
from escalation.services import auto
from escalation.tasks import sweep_escalation_rules
from fulfillment import clock
from fulfillment.tiers import Tier
from inquiries import services as inquiry_services
from inquiries.enums import InquiryStatus
from tests.inquiries.factories import InquiryFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _escalated_then_resolved(rep, senior):
    with clock.frozen(T0):
        inquiry = InquiryFactory(assignee=rep)
    with clock.frozen(T0 + dt.timedelta(hours=1)):
        escalation = services.escalate(actor=rep, inquiry=inquiry, reason="expertise", tried="Checked the tracking")
    with clock.frozen(T0 + dt.timedelta(hours=3)):
        inquiry_services.inquiry_set_status(actor=senior, inquiry=inquiry, status=InquiryStatus.RESOLVED)
    return inquiry, escalation


def test_the_sweep_closes_an_escalation_resolved_at_its_tier(rep, senior):
    inquiry, escalation = _escalated_then_resolved(rep, senior)
    assert Escalation.objects.get(pk=escalation.pk).closed_at is None
    with clock.frozen(T0 + dt.timedelta(hours=5)):
        assert auto.close_resolved() == 1
    escalation.refresh_from_db()
    assert escalation.outcome == Outcome.RESOLVED
    assert escalation.closed_at == T0 + dt.timedelta(hours=3)  # when it was resolved, not when swept
    assert escalation.seconds_at_tier == 2 * 3600
    assert escalation.outcome_tier == Tier.SENIOR_REP
    inquiry.refresh_from_db()
    assert inquiry.tier == Tier.SENIOR_REP  # the inquiry stays where it was resolved


def test_closing_resolved_escalations_is_idempotent_and_leaves_active_ones_open(rep, senior):
    _escalated_then_resolved(rep, senior)
    active = InquiryFactory(assignee=rep)
    open_one = services.escalate(actor=rep, inquiry=active, reason="expertise", tried="Asked the warehouse")
    assert auto.close_resolved() == 1
    assert auto.close_resolved() == 0
    sweep_escalation_rules()
    assert Escalation.objects.get(pk=open_one.pk).closed_at is None


def test_a_resolution_ends_no_period_on_the_ladder(rep, senior):
    inquiry, _escalation = _escalated_then_resolved(rep, senior)
    auto.close_resolved()
    inquiry.refresh_from_db()
    periods = selectors.tier_periods(inquiry, selectors.history(inquiry), now=T0 + dt.timedelta(hours=9))
    assert [(p.tier, p.seconds) for p in periods] == [(Tier.REP, 3600), (Tier.SENIOR_REP, 2 * 3600)]
