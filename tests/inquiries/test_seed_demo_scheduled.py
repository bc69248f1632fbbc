"""seed_demo_scheduled: the demo's follow-up call comes due minutes after the seed, its expedited
order is flagged at risk by the next sweep (rep1 told, an update proposed); all through the
services, a second run adds nothing, refused under production settings."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from fulfillment import clock
from fulfillment.models import Job, JobState, Notification
from inquiries.enums import EventType, FollowUpState, InquiryStatus
from inquiries.management.commands.seed_demo_scheduled import AT_RISK_SUBJECT, FOLLOW_UP_IN, FOLLOW_UP_SUBJECT
from inquiries.models import FollowUpCall, Inquiry, InquiryEvent
from inquiries.services import reminders
from orders.enums import OrderEventType, RiskReason
from orders.models import OrderEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    call_command("seed_demo", "--customers", "4")
    call_command("seed_demo_inquiries")


def test_refused_under_production_settings(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refused under production settings"):
        call_command("seed_demo_scheduled")


def test_refused_without_the_demo_staff(settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="Run seed_demo first"):
        call_command("seed_demo_scheduled")


def test_a_follow_up_call_comes_due_minutes_after_the_seed(demo):
    before = clock.now()
    call_command("seed_demo_scheduled")
    inquiry = Inquiry.objects.get(subject=FOLLOW_UP_SUBJECT)
    assert inquiry.status == InquiryStatus.RESOLVED
    call = FollowUpCall.objects.get(inquiry=inquiry)
    assert call.state == FollowUpState.SCHEDULED
    assert call.assignee.username == "rep1"
    assert before + FOLLOW_UP_IN - dt.timedelta(seconds=5) <= call.due_at <= clock.now() + FOLLOW_UP_IN
    due_job = Job.objects.get(key__startswith=f"follow-up:{call.pk}:", key__endswith=":due")
    assert (due_job.state, due_job.due_at) == (JobState.SCHEDULED, call.due_at)
    assert InquiryEvent.objects.filter(inquiry=inquiry, type=EventType.FOLLOW_UP_SCHEDULED).count() == 1


def test_the_expedited_order_is_flagged_at_risk_by_the_sweep_and_rep1_is_told(demo):
    call_command("seed_demo_scheduled")
    inquiry = Inquiry.objects.get(subject=AT_RISK_SUBJECT)
    order = inquiry.orders.get()
    assert order.expedite and order.ship_by < clock.today()
    assert order.risk_flagged_at is None
    reminders.sweep()
    order.refresh_from_db()
    assert order.risk_reason == RiskReason.NOT_SHIPPED
    assert OrderEvent.objects.filter(order=order, type=OrderEventType.AT_RISK).count() == 1
    job = Job.objects.get(key=f"at-risk:{order.pk}:{RiskReason.NOT_SHIPPED}")
    from fulfillment import scheduling

    scheduling.claim_due(ids=[job.pk])
    assert scheduling.run_job(job.pk) == JobState.DONE
    rep1 = get_user_model().objects.get(username="rep1")
    assert Notification.objects.filter(recipient=rep1, key__startswith=f"at-risk:{order.pk}:").exists()


def test_a_second_run_adds_nothing(demo):
    call_command("seed_demo_scheduled")
    counts = (Inquiry.objects.count(), FollowUpCall.objects.count(), Job.objects.count())
    call_command("seed_demo_scheduled")
    assert (Inquiry.objects.count(), FollowUpCall.objects.count(), Job.objects.count()) == counts


def test_the_demo_templates_exist_in_every_language_and_a_reply_picks_the_customers(demo):
    from django.conf import settings

    from inquiries.models import ResponseTemplate
    from inquiries.services.compose import template_for

    names = set(ResponseTemplate.objects.filter(language="en").values_list("name", flat=True))
    for code, _name in settings.LANGUAGES:
        assert names <= set(ResponseTemplate.objects.filter(language=code).values_list("name", flat=True)), code
    english = ResponseTemplate.objects.get(name="Refund confirmation", language="en")
    assert template_for(english.pk, "hi").language == "hi"
    assert "{order_number}" in template_for(english.pk, "ta").body
    assert template_for(english.pk, "de").language == "en"  # no German: English
