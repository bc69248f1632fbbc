"""A first pass through the ladder's services (the rule tests live beside this file)."""

from decimal import Decimal

import pytest

from escalation import services
from escalation.models import Escalation
from fulfillment.errors import Conflict, InvalidInput, PermissionDenied
from fulfillment.tiers import Tier
from inquiries import services as inquiry_services
from inquiries.enums import Category, RemedyKind, RemedyState
from tests.factories import UserFactory
from tests.inquiries.factories import InquiryFactory

pytestmark = pytest.mark.django_db


def test_escalate_then_return_with_coaching(rep, supervisor):
    senior = UserFactory(tier=Tier.SENIOR_REP)
    inquiry = InquiryFactory(assignee=rep, category=Category.COMPLAINT)
    e = services.escalate(actor=rep, inquiry=inquiry, reason="authority", tried="Offered a credit")
    inquiry.refresh_from_db()
    assert (inquiry.tier, inquiry.assignee_id, e.from_tier, e.to_tier) == (Tier.SENIOR_REP, None, 1, 2)
    with pytest.raises(InvalidInput) as error:
        services.escalate(actor=senior, inquiry=inquiry, reason="authority", tried="x", to_tier=Tier.SUPERVISOR)
    assert "skip_reason" in error.value.field_errors
    e2 = services.escalate(
        actor=senior, inquiry=inquiry, reason="authority", tried="x", to_tier=Tier.SUPERVISOR, skip_reason="VIP"
    )
    e.refresh_from_db()
    assert e.outcome == "escalated_further"
    services.take_over(actor=supervisor, inquiry=inquiry)
    services.return_with_coaching(actor=supervisor, inquiry=inquiry, coaching_note="You could have done this")
    inquiry.refresh_from_db()
    e2.refresh_from_db()
    assert (inquiry.tier, inquiry.assignee_id) == (Tier.SENIOR_REP, senior.pk)
    assert (e2.outcome, e2.coached_user_id) == ("returned", senior.pk)
    assert Escalation.objects.filter(inquiry=inquiry).count() == 2


def test_approval_round_trip(rep, supervisor):
    inquiry = InquiryFactory(assignee=rep, category=Category.COMPLAINT)
    remedy = inquiry_services.remedy_propose(actor=rep, inquiry=inquiry, kind=RemedyKind.CREDIT, reason="r", amount="80")
    assert (remedy.state, remedy.approval_tier) == (RemedyState.PENDING_APPROVAL, Tier.SENIOR_REP)
    with pytest.raises(PermissionDenied):
        inquiry_services.remedy_approve(actor=rep, remedy=remedy)
    done = inquiry_services.remedy_approve(actor=supervisor, remedy=remedy, amount="60.00")
    assert (done.state, done.amount, done.requested_amount) == (RemedyState.ACCEPTED, Decimal("60.00"), Decimal("80.00"))
    with pytest.raises(Conflict):
        inquiry_services.remedy_deny(actor=supervisor, remedy=remedy, note="no")
