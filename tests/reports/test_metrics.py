"""The dashboard's metrics (reports/metrics.py, docs/reports-metrics.md), each checked against
rows worked out by hand from a small data set made at frozen times. The desk's day is
2 March 2026 in the desk's time zone (UTC unless a test overrides it)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalation import services as escalation_services
from fulfillment import clock
from fulfillment.models import Team
from fulfillment.tiers import Tier
from inquiries.enums import CallDirection, CallOutcome, Category, Channel, FollowUpState, InquiryStatus
from inquiries.models import FollowUpCall, Inquiry
from inquiries.services import intake, work
from inquiries.targets.models import TargetKind, TargetRecord
from portal.models import SatisfactionRating
from reports.metrics import METRICS, Filters
from tests.factories import UserFactory
from tests.inquiries.factories import InquiryFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
KOLKATA = zoneinfo.ZoneInfo("Asia/Kolkata")
NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
DAY = Filters(start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 2))
TWO_DAYS = Filters(start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 3))


def at(day: int, hour: int = 0, minute: int = 0, tz=UTC) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=tz)


def inquiry(when: dt.datetime, **fields) -> Inquiry:
    with clock.frozen(when):
        return InquiryFactory(**fields)


def put(row: Inquiry, **fields) -> Inquiry:
    """Write columns the services set over time (resolved_at, reopen_count…) directly."""
    Inquiry.objects.filter(pk=row.pk).update(**fields)
    row.refresh_from_db()
    return row


def compute(key: str, filters: Filters = DAY):
    with clock.frozen(NOW):
        return METRICS[key].compute(filters)


def test_the_metrics_are_registered_in_the_dashboards_order():
    assert list(METRICS) == [
        "backlog",
        "age",
        "targets",
        "escalations",
        "first_contact",
        "satisfaction",
        "follow_ups",
        "expedites",
        "hot_spots",
        "reps",
    ]


# --- age --------------------------------------------------------------------------------------------


def test_age_buckets_open_inquiries_by_tier():
    inquiry(NOW - dt.timedelta(hours=23))  # rep, < 1 day
    inquiry(NOW - dt.timedelta(days=1))  # rep, exactly 1 day: 1–3
    inquiry(NOW - dt.timedelta(days=5), tier=Tier.SENIOR_REP)  # senior, 3–7
    inquiry(NOW - dt.timedelta(days=10))  # rep, 7–14
    inquiry(NOW - dt.timedelta(days=14))  # rep, exactly 14: over 14
    inquiry(NOW - dt.timedelta(days=30), status=InquiryStatus.RESOLVED)  # not open: out
    table = compute("age")
    assert table.columns[1:] == ["Under 1 day", "1–3 days", "3–7 days", "7–14 days", "Over 14 days"]
    assert table.rows == [("Rep", 1, 1, 0, 1, 1), ("Senior rep", 0, 0, 1, 0, 0)]


def test_age_without_open_inquiries_is_empty():
    assert compute("age").rows == []


# --- targets ----------------------------------------------------------------------------------------


def record(row, kind, stopped_at, met, cycle=1):
    TargetRecord.objects.create(
        inquiry=row,
        kind=kind,
        cycle=cycle,
        started_at=stopped_at - dt.timedelta(hours=1),
        stopped_at=stopped_at,
        target_minutes=60,
        taken_seconds=3600,
        met=met,
    )


def test_targets_per_day_due_and_met():
    a, b, c = (inquiry(at(1, 9)) for _ in range(3))
    TargetRecord.objects.all().delete()
    record(a, TargetKind.FIRST_RESPONSE, at(2, 0), True)  # at the start: in, day 2
    record(b, TargetKind.FIRST_RESPONSE, at(2, 10), False)
    record(a, TargetKind.RESOLUTION, at(3, 23, 59), True)  # day 3
    record(c, TargetKind.NEXT_REPLY, at(2, 11), True)  # not reported
    record(c, TargetKind.RESOLUTION, at(4, 0), False)  # after the range: out
    record(b, TargetKind.RESOLUTION, at(2, 12), None)  # no target: out
    assert compute("targets", TWO_DAYS).rows == [
        (dt.date(2026, 3, 2), 2, 1, 0, 0),
        (dt.date(2026, 3, 3), 0, 0, 1, 1),
    ]


def test_targets_count_on_the_local_day(settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    a = inquiry(at(1, 9))
    TargetRecord.objects.all().delete()
    record(a, TargetKind.FIRST_RESPONSE, at(2, 23, 30, KOLKATA), True)  # 18:00 UTC on the 2nd
    record(a, TargetKind.RESOLUTION, at(3, 0, 30, KOLKATA), False)  # 19:00 UTC on the 2nd: day 3
    assert compute("targets").rows == [(dt.date(2026, 3, 2), 1, 1, 0, 0)]


def test_targets_without_data_has_a_zero_row_per_day():
    assert compute("targets", TWO_DAYS).rows == [
        (dt.date(2026, 3, 2), 0, 0, 0, 0),
        (dt.date(2026, 3, 3), 0, 0, 0, 0),
    ]


# --- escalations ------------------------------------------------------------------------------------


def escalate(when, actor, row, **fields):
    with clock.frozen(when):
        return escalation_services.escalate(
            actor=actor, inquiry=row, reason="authority", tried="Checked the order", **fields
        )


def test_escalation_rate_and_hours_per_tier():
    rep = UserFactory(username="rep-a", tier=Tier.REP)
    a = inquiry(at(2, 1), assignee=rep)
    inquiry(at(2, 2))
    inquiry(at(2, 3))
    inquiry(at(2, 4))
    inquiry(at(1, 4))  # opened the day before: not reached in the range
    escalate(at(2, 3), rep, a)  # 2 hours at the rep tier
    table = compute("escalations")
    assert table.rows == [("Rep", 4, 1, 25.0, 2.0), ("Senior rep", 1, 0, 0.0, None)]


def test_escalations_count_each_escalation_and_filter_by_team():
    chennai = Team.objects.create(name="Chennai")
    rep = UserFactory(username="rep-t", tier=Tier.REP, team=chennai)
    senior = UserFactory(username="senior-t", tier=Tier.SENIOR_REP, team=chennai)
    a = inquiry(at(2, 1), assignee=rep)
    b = inquiry(at(2, 1))
    escalate(at(2, 2), rep, a)  # 1 hour at the rep tier
    with clock.frozen(at(2, 3)):
        escalation_services.return_with_coaching(actor=senior, inquiry=a, coaching_note="Offer the refund yourself")
    Inquiry.objects.filter(pk=a.pk).update(assignee=rep)
    a.refresh_from_db()
    escalate(at(2, 5), rep, a)  # the same inquiry again: a second escalation to the senior tier
    Inquiry.objects.filter(pk=a.pk).update(assignee=senior)  # held by a Chennai senior now
    escalate(at(2, 4), rep, b)  # b is unassigned after: in no team
    table = compute("escalations")
    # rep tier: 2 opened, 3 escalations up; senior tier: 3 arrivals; periods at the rep tier: 1 h,
    # 2 h (a since its return at 03:00) and 3 h (b), and a's hour at the senior tier before the return
    assert table.rows == [("Rep", 2, 3, 150.0, 2.0), ("Senior rep", 3, 0, 0.0, 1.0)]
    team = compute("escalations", Filters(DAY.start, DAY.end, team=chennai.pk))
    assert team.rows == [("Rep", 1, 2, 200.0, 1.5), ("Senior rep", 2, 0, 0.0, 1.0)]


def test_escalations_without_data_is_empty():
    assert compute("escalations").rows == []


# --- first contact ----------------------------------------------------------------------------------


def test_first_contact_and_reopen_rates():
    # first response and last reply as the services write them (inquiries/services/work.py)
    put(
        inquiry(at(1, 9)),
        status=InquiryStatus.RESOLVED,
        resolved_at=at(2, 0),  # at the start: in
        first_response_at=at(1, 10),
        last_outbound_at=at(1, 10),  # one reply: first contact
    )
    put(
        inquiry(at(1, 9)),
        status=InquiryStatus.RESOLVED,
        resolved_at=at(2, 10),
        first_response_at=at(1, 10),
        last_outbound_at=at(2, 9),  # a second reply: not first contact
    )
    put(
        inquiry(at(1, 9), channel=Channel.PHONE),
        status=InquiryStatus.RESOLVED,
        resolved_at=at(2, 10),
        first_response_at=at(1, 9, 5),  # answered on the phone, then written to: not first contact
        last_outbound_at=at(1, 11),
    )
    put(
        inquiry(at(1, 9), channel=Channel.PHONE),
        status=InquiryStatus.RESOLVED,
        resolved_at=at(2, 10, 30),
        first_response_at=at(1, 9, 5),  # resolved on the call: first contact
    )
    put(
        inquiry(at(1, 9)),
        status=InquiryStatus.RESOLVED,
        resolved_at=at(2, 11),
        reopen_count=1,  # reopened: not first contact
        first_response_at=at(1, 10),
        last_outbound_at=at(1, 10),
    )
    put(inquiry(at(1, 9)), status=InquiryStatus.CLOSED, resolved_at=at(2, 12))  # no reply at all: first contact
    put(inquiry(at(1, 9)), status=InquiryStatus.RESOLVED, resolved_at=at(3, 0))  # at the end: out
    # 6 resolved: 3 at first contact, 1 reopened
    assert compute("first_contact").rows == [("All", 6, 3, 50.0, 1, 16.7)]


def test_first_contact_counts_a_reply_through_the_service():
    rep = UserFactory(tier=Tier.REP)
    row = inquiry(at(1, 9))
    with clock.frozen(at(1, 10)):
        row = work.inquiry_claim(actor=rep, inquiry=row)
        work.reply_send(actor=rep, inquiry=row, body="Your refund is on its way.")
    put(row, status=InquiryStatus.RESOLVED, resolved_at=at(2, 1))
    assert compute("first_contact").rows == [("All", 1, 1, 100.0, 0, 0.0)]
    with clock.frozen(at(1, 11)):
        work.reply_send(actor=rep, inquiry=row, body="One more thing.")
    assert compute("first_contact").rows == [("All", 1, 0, 0.0, 0, 0.0)]


def test_first_contact_counts_calls_through_the_service():
    rep = UserFactory(tier=Tier.REP)
    row = inquiry(at(1, 9), channel=Channel.PHONE)
    with clock.frozen(at(1, 9, 1)):
        row = work.inquiry_claim(actor=rep, inquiry=row)
        # a call that did not reach the customer is no contact
        intake.call_log(actor=rep, inquiry=row, direction=CallDirection.OUTBOUND, outcome=CallOutcome.NO_ANSWER)
    with clock.frozen(at(1, 9, 5)):
        intake.call_log(actor=rep, inquiry=row, direction=CallDirection.INBOUND, outcome=CallOutcome.INFO_GIVEN)
    put(row, status=InquiryStatus.RESOLVED, resolved_at=at(2, 1))
    assert compute("first_contact").rows == [("All", 1, 1, 100.0, 0, 0.0)]
    with clock.frozen(at(1, 15)):
        intake.call_log(actor=rep, inquiry=row, direction=CallDirection.OUTBOUND, outcome=CallOutcome.VOICEMAIL)
    assert compute("first_contact").rows == [("All", 1, 1, 100.0, 0, 0.0)]
    with clock.frozen(at(1, 16)):  # a second conversation: a second contact
        intake.call_log(actor=rep, inquiry=row, direction=CallDirection.OUTBOUND, outcome=CallOutcome.RESOLVED)
    assert compute("first_contact").rows == [("All", 1, 0, 0.0, 0, 0.0)]
    row.refresh_from_db()
    assert (row.first_response_at, row.last_outbound_at) == (at(1, 9, 5), at(1, 16))


def test_first_contact_one_inquiry_and_none():
    assert compute("first_contact").rows == []
    put(inquiry(at(1, 9)), status=InquiryStatus.RESOLVED, resolved_at=at(2, 5))
    assert compute("first_contact").rows == [("All", 1, 1, 100.0, 0, 0.0)]


# --- satisfaction -----------------------------------------------------------------------------------


def rate(row, score, when, cycle=0):
    SatisfactionRating.objects.create(inquiry=row, score=score, created_at=when, cycle=cycle)


def test_satisfaction_by_score_and_average():
    a, b, c = (inquiry(at(1, 9)) for _ in range(3))
    rate(a, 5, at(2, 0))
    rate(b, 4, at(2, 9))
    rate(c, 1, at(2, 23, 59))
    rate(a, 2, at(3, 0), cycle=1)  # at the end: out
    table = compute("satisfaction")
    assert table.rows == [(1, 1), (2, 0), (3, 0), (4, 1), (5, 1)]
    assert table.notes == "Average score: 3.33"


def test_satisfaction_filters_by_category_and_none_is_empty():
    billing = inquiry(at(1, 9), category=Category.BILLING)
    rate(billing, 3, at(2, 9))
    assert compute("satisfaction", Filters(DAY.start, DAY.end, category=Category.DELIVERY)).rows == []
    table = compute("satisfaction", Filters(DAY.start, DAY.end, category=Category.BILLING))
    assert table.rows == [(1, 0), (2, 0), (3, 1), (4, 0), (5, 0)]


# --- follow-up calls --------------------------------------------------------------------------------


def call(row, due_at, state):
    cycle = FollowUpCall.objects.filter(inquiry=row).count() + 1  # one call per resolution cycle
    FollowUpCall.objects.create(
        inquiry=row, cycle=cycle, due_at=due_at, window_ends_at=due_at + dt.timedelta(hours=4), state=state
    )


def test_follow_ups_due_done_missed_per_day():
    a = inquiry(at(1, 9))
    FollowUpCall.objects.all().delete()
    call(a, at(2, 0), FollowUpState.DONE)
    call(a, at(2, 9), FollowUpState.MISSED)
    call(a, at(2, 10), FollowUpState.DUE)
    call(a, at(2, 11), FollowUpState.CANCELLED)  # cancelled: out
    call(a, at(3, 10), FollowUpState.DONE)
    call(a, at(4, 0), FollowUpState.DONE)  # after the range: out
    assert compute("follow_ups", TWO_DAYS).rows == [
        (dt.date(2026, 3, 2), 3, 1, 1),
        (dt.date(2026, 3, 3), 1, 1, 0),
    ]


def test_follow_ups_count_on_the_local_day(settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    a = inquiry(at(1, 9))
    FollowUpCall.objects.all().delete()
    call(a, at(2, 23, 30, KOLKATA), FollowUpState.DONE)
    call(a, at(1, 23, 30, KOLKATA), FollowUpState.DONE)  # the day before, locally
    assert compute("follow_ups").rows == [(dt.date(2026, 3, 2), 1, 1, 0)]


# --- the team filter -------------------------------------------------------------------------------


def test_the_team_filter_keeps_inquiries_assigned_to_its_members():
    chennai, manila = Team.objects.create(name="Chennai"), Team.objects.create(name="Manila")
    priya = UserFactory(username="priya", first_name="Priya", last_name="", tier=Tier.REP, team=chennai)
    jose = UserFactory(username="jose", first_name="Jose", last_name="", tier=Tier.REP, team=manila)
    loner = UserFactory(username="loner", tier=Tier.REP)  # in no team
    ours = put(
        inquiry(at(1, 9), assignee=priya),
        status=InquiryStatus.RESOLVED,
        resolved_at=at(2, 9),
        first_response_at=at(1, 10),
        last_outbound_at=at(1, 10),
    )
    theirs = put(inquiry(at(1, 9), assignee=jose), status=InquiryStatus.RESOLVED, resolved_at=at(2, 10))
    inquiry(at(2, 9), assignee=priya)  # open, Chennai's
    inquiry(at(2, 9), assignee=loner)  # open, no team
    inquiry(at(2, 9))  # open, unassigned
    rate(ours, 5, at(2, 11))
    rate(theirs, 1, at(2, 11))
    call(ours, at(2, 12), FollowUpState.DONE)
    call(theirs, at(2, 12), FollowUpState.MISSED)
    record(ours, TargetKind.FIRST_RESPONSE, at(2, 1), True)
    record(theirs, TargetKind.FIRST_RESPONSE, at(2, 1), False)
    team = Filters(DAY.start, DAY.end, team=chennai.pk)
    assert compute("backlog", team).rows == [("Rep", 1, 0, 0, 0)]
    assert compute("first_contact", team).rows == [("All", 1, 1, 100.0, 0, 0.0)]
    assert compute("satisfaction", team).rows == [(1, 0), (2, 0), (3, 0), (4, 0), (5, 1)]
    assert compute("follow_ups", team).rows == [(DAY.start, 1, 1, 0)]
    assert compute("targets", team).rows == [(DAY.start, 1, 1, 0, 0)]
    assert compute("reps", team).rows == [("Priya", 1, 1, 24.0)]  # opened the 1st 09:00, resolved the 2nd 09:00
    everyone = compute("backlog").rows
    assert everyone == [("Rep", 3, 0, 0, 0)]


# --- query counts -----------------------------------------------------------------------------------


def queries(key: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        compute(key, TWO_DAYS)
    return len(captured)


@pytest.mark.parametrize("key", ["age", "targets", "escalations", "first_contact", "satisfaction", "follow_ups"])
def test_query_count_does_not_grow_with_the_data(key):
    rep = UserFactory(username="rep-q", tier=Tier.REP)

    def add():
        row = inquiry(at(2, 1), assignee=rep)
        put(row, resolved_at=at(2, 5))
        put(row, first_response_at=at(2, 2), last_outbound_at=at(2, 2))
        rate(row, 4, at(2, 6))
        call(row, at(2, 7), FollowUpState.DONE)
        record(row, TargetKind.FIRST_RESPONSE, at(2, 8), True)
        escalate(at(2, 9), rep, row)

    add()
    small = queries(key)
    for _ in range(3):
        add()
    assert queries(key) == small
