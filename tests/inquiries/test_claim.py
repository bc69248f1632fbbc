"""Who works an inquiry: claiming (first wins), assigning and releasing, and presence."""

from __future__ import annotations

import datetime as dt

import pytest

from fulfillment import clock
from fulfillment.errors import Conflict, InvalidInput, PermissionDenied
from fulfillment.tiers import Tier
from inquiries import services
from inquiries.enums import EventType, InquiryStatus

from ..factories import UserFactory
from .conftest import NOW
from .factories import InquiryFactory
from .helpers import events_of, fresh, last_event, refused, snapshot

S = InquiryStatus


# --- claim ------------------------------------------------------------------------------------------


def test_a_rep_claims_an_unassigned_inquiry(rep, inquiry):
    version = fresh(inquiry).version
    services.inquiry_claim(actor=rep, inquiry=inquiry)
    row = fresh(inquiry)
    assert (row.assignee, row.version) == (rep, version + 1)
    event = last_event(row)
    assert (event.type, event.details, event.actor_user) == (
        EventType.ASSIGNED,
        {"old": "", "new": "rep1", "claimed": True},
        rep,
    )


def test_claiming_ones_own_inquiry_again_changes_nothing(rep, inquiry):
    services.inquiry_claim(actor=rep, inquiry=inquiry)
    before = snapshot(inquiry)
    services.inquiry_claim(actor=rep, inquiry=inquiry)
    assert snapshot(inquiry) == before


def test_the_second_claim_loses_and_is_told_who_has_it(rep, inquiry):
    other = UserFactory(username="rep2", first_name="Meera", last_name="Das", tier=Tier.REP)
    services.inquiry_claim(actor=other, inquiry=inquiry)
    error = refused(inquiry, Conflict, lambda: services.inquiry_claim(actor=rep, inquiry=inquiry))
    assert "Meera Das" in error.message


@pytest.mark.parametrize("status", [S.RESOLVED, S.CLOSED])
def test_a_done_inquiry_cannot_be_claimed(rep, status):
    inquiry = InquiryFactory(status=status)
    refused(inquiry, InvalidInput, lambda: services.inquiry_claim(actor=rep, inquiry=inquiry))


def test_a_rep_cannot_claim_a_specialist_inquiry_but_a_specialist_can(rep, specialist):
    inquiry = InquiryFactory(tier=Tier.SPECIALIST)
    error = refused(inquiry, PermissionDenied, lambda: services.inquiry_claim(actor=rep, inquiry=inquiry))
    assert "Specialist" in error.message
    services.inquiry_claim(actor=specialist, inquiry=inquiry)
    assert fresh(inquiry).assignee == specialist


@pytest.mark.parametrize("actor", ["api_writer", "system"])
def test_only_a_person_can_claim(request, inquiry, actor):
    actor = request.getfixturevalue(actor)
    refused(inquiry, PermissionDenied, lambda: services.inquiry_claim(actor=actor, inquiry=inquiry))


# --- assign and release ---------------------------------------------------------------------------------


def test_a_senior_rep_hands_an_inquiry_to_a_rep_and_back(senior, rep, inquiry):
    services.inquiry_assign(actor=senior, inquiry=inquiry, assignee=rep)
    assert fresh(inquiry).assignee == rep
    assert last_event(inquiry).details == {"old": "", "new": "rep1", "claimed": False}
    services.inquiry_assign(actor=senior, inquiry=inquiry, assignee=senior)
    assert last_event(inquiry).details == {"old": "rep1", "new": "senior1", "claimed": False}


def test_assigning_to_the_current_assignee_changes_nothing(senior, rep):
    inquiry = InquiryFactory(assignee=rep)
    before = snapshot(inquiry)
    services.inquiry_assign(actor=senior, inquiry=inquiry, assignee=rep)
    assert snapshot(inquiry) == before


def test_a_rep_releases_their_own_inquiry(rep):
    inquiry = InquiryFactory(assignee=rep)
    services.inquiry_assign(actor=rep, inquiry=inquiry, assignee=None)
    assert fresh(inquiry).assignee is None
    assert last_event(inquiry).details == {"old": "rep1", "new": "", "claimed": False}


def test_a_rep_cannot_give_an_inquiry_away_or_release_someone_elses(rep, senior):
    other = UserFactory(username="rep2", tier=Tier.REP)
    mine, theirs = InquiryFactory(assignee=rep), InquiryFactory(assignee=other)
    refused(mine, PermissionDenied, lambda: services.inquiry_assign(actor=rep, inquiry=mine, assignee=other))
    refused(theirs, PermissionDenied, lambda: services.inquiry_assign(actor=rep, inquiry=theirs, assignee=None))


@pytest.mark.parametrize(
    "assignee", [{"tier": Tier.REP}, {"tier": None}, {"tier": Tier.SUPERVISOR, "is_active": False}]
)
def test_an_inquiry_goes_only_to_an_active_person_at_its_tier(supervisor, assignee):
    inquiry = InquiryFactory(tier=Tier.SENIOR_REP)
    person = UserFactory(**assignee)
    error = refused(
        inquiry, InvalidInput, lambda: services.inquiry_assign(actor=supervisor, inquiry=inquiry, assignee=person)
    )
    assert "assignee" in error.field_errors


# --- presence -----------------------------------------------------------------------------------------


def test_presence_shows_the_others_seen_in_the_last_45_seconds(rep, senior, specialist, inquiry):
    other = InquiryFactory()
    with clock.frozen(NOW - dt.timedelta(seconds=46)):
        services.presence_ping(user=specialist, inquiry=inquiry)
    with clock.frozen(NOW - dt.timedelta(seconds=44)):
        services.presence_ping(user=senior, inquiry=inquiry)
        services.presence_ping(user=rep, inquiry=inquiry, composing=True)
        services.presence_ping(user=specialist, inquiry=other)
    with clock.frozen(NOW):
        assert [p.user for p in services.presence_others(user=specialist, inquiry=inquiry)] == [rep, senior]
        assert [p.composing for p in services.presence_others(user=specialist, inquiry=inquiry)] == [True, False]
        assert [p.user for p in services.presence_others(user=rep, inquiry=inquiry)] == [senior]
    with clock.frozen(NOW + dt.timedelta(seconds=2)):
        assert services.presence_others(user=specialist, inquiry=inquiry) == []


def test_a_ping_refreshes_and_leaving_removes_presence(rep, senior, inquiry):
    with clock.frozen(NOW - dt.timedelta(minutes=5)):
        services.presence_ping(user=rep, inquiry=inquiry, composing=True)
    with clock.frozen(NOW):
        assert services.presence_others(user=senior, inquiry=inquiry) == []
        services.presence_ping(user=rep, inquiry=inquiry)
        (seen,) = services.presence_others(user=senior, inquiry=inquiry)
        assert (seen.seen_at, seen.composing) == (NOW, False)
        services.presence_leave(user=rep, inquiry=inquiry)
        assert services.presence_others(user=senior, inquiry=inquiry) == []


def test_presence_is_not_on_the_timeline(rep, inquiry):
    count = len(events_of(inquiry))
    services.presence_ping(user=rep, inquiry=inquiry)
    assert len(events_of(inquiry)) == count
