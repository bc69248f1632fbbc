"""Queues (mine, unassigned, callbacks, team, all), the timeline and search."""

from __future__ import annotations

import datetime as dt

import pytest

from fulfillment import clock
from fulfillment.errors import PermissionDenied
from fulfillment.tiers import Tier
from inquiries import selectors, services
from inquiries.enums import EventType, InquiryStatus, Priority
from inquiries.selectors import Queue

from ..factories import CustomerFactory
from .conftest import NOW
from .factories import InquiryFactory

S = InquiryStatus
HOUR = dt.timedelta(hours=1)


def queue(actor, name):
    return list(selectors.inquiry_queue(actor=actor, queue=name))


@pytest.fixture
def desk(rep, senior, specialist):
    """Inquiries at different tiers, owners, priorities and statuses, all made at NOW."""
    with clock.frozen(NOW):
        return {
            "mine_urgent": InquiryFactory(priority=Priority.URGENT, assignee=rep),
            "mine_low": InquiryFactory(priority=Priority.LOW, assignee=rep),
            "mine_done": InquiryFactory(assignee=rep, status=S.RESOLVED),
            "seniors": InquiryFactory(priority=Priority.HIGH, assignee=senior),
            "free_normal": InquiryFactory(),
            "free_high": InquiryFactory(priority=Priority.HIGH),
            "free_specialist": InquiryFactory(tier=Tier.SPECIALIST),
            "free_closed": InquiryFactory(status=S.CLOSED),
        }


def names(desk, rows):
    by_pk = {inquiry.pk: name for name, inquiry in desk.items()}
    return [by_pk[row.pk] for row in rows]


def test_mine_holds_my_active_inquiries_nearest_deadline_first(rep, desk):
    assert names(desk, queue(rep, Queue.MINE)) == ["mine_urgent", "mine_low"]


def test_unassigned_holds_the_free_active_work_at_or_below_my_tier(rep, specialist, desk):
    assert names(desk, queue(rep, Queue.UNASSIGNED)) == ["free_high", "free_normal"]
    assert names(desk, queue(specialist, Queue.UNASSIGNED)) == ["free_high", "free_normal", "free_specialist"]


def test_team_holds_all_active_work_at_or_below_my_tier(rep, supervisor, desk):
    by_deadline = ["mine_urgent", "seniors", "free_high", "free_normal", "mine_low"]
    assert names(desk, queue(rep, Queue.TEAM)) == by_deadline
    assert names(desk, queue(supervisor, Queue.TEAM)) == [*by_deadline[:4], "free_specialist", "mine_low"]


def test_all_holds_everything_newest_first(rep, desk):
    assert names(desk, queue(rep, Queue.ALL)) == list(reversed(desk))


def test_callbacks_holds_my_callbacks_due_within_the_hour(rep, senior, system, desk):
    minutes = dt.timedelta(minutes=1)
    with clock.frozen(NOW):
        services.callback_promise(actor=rep, inquiry=desk["mine_low"], due_at=NOW + 50 * minutes)
        services.callback_promise(actor=system, inquiry=desk["mine_urgent"], due_at=NOW + 20 * minutes)  # owner: rep
        services.callback_promise(actor=rep, inquiry=desk["free_normal"], due_at=NOW + 3 * HOUR)  # not yet
        services.callback_promise(actor=rep, inquiry=desk["mine_done"], due_at=NOW + 5 * minutes)  # resolved
        services.callback_promise(actor=senior, inquiry=desk["seniors"], due_at=NOW + 10 * minutes)
        services.callback_promise(actor=system, inquiry=desk["free_high"], due_at=NOW + 10 * minutes)  # nobody's
        assert names(desk, queue(rep, Queue.CALLBACKS)) == ["mine_urgent", "mine_low"]
        assert names(desk, queue(senior, Queue.CALLBACKS)) == ["seniors"]
    with clock.frozen(NOW + 2 * HOUR + 30 * minutes):  # the later one comes due, the rest are overdue
        assert names(desk, queue(rep, Queue.CALLBACKS)) == ["mine_urgent", "mine_low", "free_normal"]


@pytest.mark.parametrize("name", Queue.CHOICES)
def test_a_queue_is_one_query_however_long(rep, desk, name, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = queue(rep, name)
        [(row.customer.name, row.assignee) for row in rows]


@pytest.mark.parametrize("name", Queue.CHOICES)
def test_a_queue_needs_a_desk_role(no_role_user, api_reader, name):
    with pytest.raises(PermissionDenied):
        queue(no_role_user, name)
    assert queue(api_reader, name) == []


# --- timeline -------------------------------------------------------------------------------------------


def test_the_timeline_is_oldest_first_and_pages_backwards(rep, inquiry):
    services.note_add(actor=rep, inquiry=inquiry, body="A note")
    services.reply_send(actor=rep, inquiry=inquiry, body="A reply")
    everything = selectors.timeline(inquiry)
    assert [e.type for e in everything] == [
        EventType.CREATED,
        EventType.ORDER_LINKED,
        EventType.MESSAGE_IN,
        EventType.NOTE,
        EventType.MESSAGE_OUT,
        EventType.STATUS_CHANGED,
    ]
    newest = selectors.timeline(inquiry, limit=2)
    assert newest == everything[-2:]
    assert selectors.timeline(inquiry, limit=2, before_id=newest[0].pk) == everything[-4:-2]


def test_the_timeline_is_a_fixed_number_of_queries(rep, inquiry, django_assert_num_queries):
    for n in range(5):
        services.note_add(actor=rep, inquiry=inquiry, body=f"Note {n}")
    with django_assert_num_queries(2):  # the events with their rows, and the attachments
        rows = selectors.timeline(inquiry)
        [(e.message and e.message.body, e.actor_user) for e in rows]


# --- search ---------------------------------------------------------------------------------------------


@pytest.fixture
def findable(db):
    ravi = CustomerFactory(name="Ravi Kumar", email="ravi@example.net", phone="+91 98400 12345")
    kettle = InquiryFactory(customer=ravi, subject="Broken kettle", body="The lid snapped off")
    other = InquiryFactory(subject="Missing parcel", body="Nothing came")
    return kettle, other


@pytest.mark.parametrize(
    "q",
    ["kettle", "Broken", "snapped", "Ravi", "ravi@example.net", "98400 12345", "+91-98400-12345"],
)
def test_search_finds_by_subject_message_and_customer(rep, findable, q):
    kettle, _other = findable
    assert selectors.search_inquiries(actor=rep, q=q) == [kettle]


def test_search_finds_by_reference(rep, findable):
    kettle, other = findable
    assert selectors.search_inquiries(actor=rep, q=other.reference) == [other]
    assert selectors.search_inquiries(actor=rep, q=f"inq{kettle.pk}") == [kettle]


@pytest.mark.parametrize("q", ["", "   ", "zebra", "'); DROP TABLE x; --", "&|!:*"])
def test_search_without_a_match_finds_nothing(rep, findable, q):
    assert selectors.search_inquiries(actor=rep, q=q) == []


def test_search_needs_a_desk_role(no_role_user, findable):
    with pytest.raises(PermissionDenied):
        selectors.search_inquiries(actor=no_role_user, q="kettle")
