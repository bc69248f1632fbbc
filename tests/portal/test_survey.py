"""The satisfaction survey: scheduled per resolution cycle, sent once, a one-click rating that
only a POST records, the first answer kept, a low one handing the follow-up call to a senior."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from fulfillment import clock, scheduling
from fulfillment.models import Job, JobState
from inquiries import services as inquiry_services
from inquiries.enums import EventType, FollowUpState, InquiryStatus
from inquiries.models import FollowUpCall
from inquiries.services import followups
from portal import selectors, services
from portal.enums import LinkPurpose
from portal.models import CustomerLink, SatisfactionRating

from ..factories import CustomerFactory
from ..inquiries.factories import InquiryFactory


def _run_due(now) -> None:
    with clock.frozen(now):
        scheduling.sweep(now=now)
        for job in Job.objects.filter(kind=services.SURVEY_KIND, state=JobState.QUEUED):
            scheduling.run_job(job.pk)


def test_a_resolution_gets_one_survey_mail_in_the_customers_language(db, system):
    customer = CustomerFactory(preferred_language="ta")
    inquiry = InquiryFactory(customer=customer, status=InquiryStatus.RESOLVED)
    assert services.survey_schedule_due() == 1
    assert services.survey_schedule_due() == 0  # keyed per inquiry and cycle
    job = Job.objects.get(kind=services.SURVEY_KIND)
    assert job.key == f"portal.survey:{inquiry.pk}:0"
    later = job.due_at + dt.timedelta(seconds=1)
    _run_due(later)
    _run_due(later + dt.timedelta(hours=1))
    scheduling.run_job(job.pk)  # a message delivered twice runs once
    survey_mails = [m for m in mail.outbox if "/rate/" in m.body]
    assert len(survey_mails) == 1
    assert survey_mails[0].to == [customer.email]
    assert all(f"/rate/{n}/" in survey_mails[0].body for n in range(1, 6))
    assert CustomerLink.objects.filter(inquiry=inquiry, purpose=LinkPurpose.SURVEY).count() == 1
    assert inquiry.events.filter(type=EventType.SURVEY_SENT).count() == 1


def test_no_survey_when_reopened_before_it_is_due(db, rep):
    inquiry = InquiryFactory(status=InquiryStatus.RESOLVED)
    services.survey_schedule_due()
    inquiry_services.message_receive(actor=rep, inquiry=inquiry, body="Not fixed", channel="email")
    _run_due(clock.now() + dt.timedelta(days=1))
    assert not [m for m in mail.outbox if "/rate/" in m.body]
    assert not CustomerLink.objects.filter(purpose=LinkPurpose.SURVEY).exists()


def test_a_score_link_asks_to_confirm_and_get_changes_nothing(resolved, survey_link):
    response = Client().get(reverse("portal:rate", args=[survey_link[1], 4]))
    assert response.status_code == 200
    assert (
        b'value="4" checked' in response.content or b'value="4"\n' in response.content or b"checked" in response.content
    )
    assert not SatisfactionRating.objects.exists()


def test_a_rating_is_recorded_once_and_a_second_changes_nothing(resolved, survey_link):
    client = Client()
    url = reverse("portal:rate_post", args=[survey_link[1]])
    assert client.post(url, {"score": "4", "comment": "Quick and kind"}).status_code == 200
    response = client.post(url, {"score": "1", "comment": "Changed my mind"})
    assert response.status_code == 200 and b"kept the first one" in response.content
    rating = SatisfactionRating.objects.get()
    assert (rating.score, rating.comment, rating.cycle) == (4, "Quick and kind", 0)
    assert resolved.events.filter(type=EventType.RATING_RECEIVED).count() == 1
    assert list(selectors.ratings()) == [rating]
    assert selectors.rating_summary()["average"] == 4


@pytest.mark.parametrize("score", ["0", "6", "x", ""])
def test_a_score_outside_1_to_5_is_a_form_error(resolved, survey_link, score):
    response = Client().post(reverse("portal:rate_post", args=[survey_link[1]]), {"score": score})
    assert response.status_code == 400
    assert b"Choose a score from 1 to 5." in response.content
    assert not SatisfactionRating.objects.exists()


def test_ratings_are_rate_limited(db, system, settings):
    settings.FD_PORTAL_RATE = 1
    client = Client()
    codes = []
    for _ in range(2):
        inquiry = InquiryFactory(status=InquiryStatus.RESOLVED)
        _, token = services.link_issue(actor=system, inquiry=inquiry, purpose=LinkPurpose.SURVEY)
        codes.append(client.post(reverse("portal:rate_post", args=[token]), {"score": "5"}).status_code)
    assert codes == [200, 429]
    assert SatisfactionRating.objects.count() == 1


def test_a_low_rating_gives_the_follow_up_call_to_a_senior_due_now(db, rep, senior, system):
    inquiry = InquiryFactory(status=InquiryStatus.OPEN, assignee=rep)
    inquiry_services.inquiry_set_status(actor=rep, inquiry=inquiry, status=InquiryStatus.RESOLVED)
    call = FollowUpCall.objects.get(inquiry=inquiry)
    assert call.assignee == rep and call.due_at > clock.now()
    _, token = services.link_issue(actor=system, inquiry=inquiry, purpose=LinkPurpose.SURVEY)
    response = Client().post(reverse("portal:rate_post", args=[token]), {"score": "2", "comment": "Rude"})
    assert response.status_code == 200 and b"senior member of our team will call you" in response.content
    call.refresh_from_db()
    assert call.assignee == senior and call.state == FollowUpState.DUE and call.due_at <= clock.now()
    event = inquiry.events.filter(type=EventType.FOLLOW_UP_SCHEDULED).order_by("-pk").first()
    assert event.details["caller"] == senior.get_full_name() and "2 of 5" in event.details["reason"]


def test_a_low_rating_after_the_call_was_logged_opens_it_again_for_a_senior(db, rep, senior, system):
    inquiry = InquiryFactory(status=InquiryStatus.OPEN, assignee=rep)
    inquiry_services.inquiry_set_status(actor=rep, inquiry=inquiry, status=InquiryStatus.RESOLVED)
    call = FollowUpCall.objects.get(inquiry=inquiry)
    followups.follow_up_log(actor=rep, call=call, outcome="satisfied")
    link, _token = services.link_issue(actor=system, inquiry=inquiry, purpose=LinkPurpose.SURVEY)
    rating, created = services.rating_record(link=link, score=1)
    assert created and rating.is_low
    call.refresh_from_db()
    assert (call.assignee, call.state) == (senior, FollowUpState.DUE)
    assert call.max_attempts > call.attempts


def test_a_good_rating_schedules_no_senior_call(db, rep, senior, system):
    inquiry = InquiryFactory(status=InquiryStatus.OPEN, assignee=rep)
    inquiry_services.inquiry_set_status(actor=rep, inquiry=inquiry, status=InquiryStatus.RESOLVED)
    _, token = services.link_issue(actor=system, inquiry=inquiry, purpose=LinkPurpose.SURVEY)
    Client().post(reverse("portal:rate_post", args=[token]), {"score": "3"})
    assert FollowUpCall.objects.get(inquiry=inquiry).assignee == rep


def test_no_senior_call_when_the_customer_asked_not_to_be_called(db, senior, system):
    customer = CustomerFactory(no_follow_up_calls=True)
    inquiry = InquiryFactory(customer=customer, status=InquiryStatus.RESOLVED)
    _, token = services.link_issue(actor=system, inquiry=inquiry, purpose=LinkPurpose.SURVEY)
    Client().post(reverse("portal:rate_post", args=[token]), {"score": "1"})
    assert not FollowUpCall.objects.filter(inquiry=inquiry).exists()
    assert SatisfactionRating.objects.get().score == 1


def test_the_rating_shows_on_the_inquiry_page(resolved, survey_link, rep):
    Client().post(reverse("portal:rate_post", args=[survey_link[1]]), {"score": "5", "comment": "Lovely <b>team</b>"})
    client = Client()
    client.force_login(rep)
    content = client.get(reverse("inquiries:detail", args=[resolved.pk])).content
    assert b"Rated 5 of 5" in content and b"Lovely &lt;b&gt;team&lt;/b&gt;" in content


@pytest.mark.parametrize("language", ["en", "ta", "fil", "bn", "hi"])
def test_survey_pages_render_in_every_language(db, system, language):
    inquiry = InquiryFactory(customer=CustomerFactory(preferred_language=language), status=InquiryStatus.RESOLVED)
    _, token = services.link_issue(actor=system, inquiry=inquiry, purpose=LinkPurpose.SURVEY)
    client = Client()
    assert client.get(reverse("portal:rate", args=[token, 3])).status_code == 200
    assert client.post(reverse("portal:rate_post", args=[token]), {"score": "3"}).status_code == 200


def test_no_senior_call_for_a_cycle_the_customer_reopened_since(db, rep, senior):
    inquiry = InquiryFactory(status=InquiryStatus.RESOLVED)
    inquiry_services.message_receive(actor=rep, inquiry=inquiry, body="Not fixed", channel="email")
    assert followups.follow_up_by_senior(actor=rep, inquiry=inquiry, cycle=0, reason="Low rating") is None
    assert not FollowUpCall.objects.filter(inquiry=inquiry, state=FollowUpState.DUE).exists()
