"""Service targets through the real services and the database (docs/service-targets.md).

Every instant is hand-computed. The default policy "Standard" on "Standard hours" (Monday to
Friday 09:00–17:00 UTC) allows, in business minutes (first response, next reply, resolution):
urgent 60/60/480, high 240/240/1440, normal 480/480/2400, low 960/960/4800.
Monday 10 March 2031 is ``at(10)``; Saturday 8th and Sunday 9th are the weekend before it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.test import Client

from fulfillment import clock
from fulfillment.errors import InvalidInput, PermissionDenied
from inquiries import services
from inquiries.enums import CallDirection, CallOutcome, Category, Channel, EventType, InquiryStatus, Priority
from inquiries.mail.inbound import mail_ingest
from inquiries.models import (
    DueKind,
    Inquiry,
    InquiryEvent,
    PolicyTarget,
    RecomputeState,
    ServicePolicy,
    TargetKind,
    TargetRecompute,
    TargetRecord,
)
from inquiries.services import targets as target_service
from orders.enums import CustomerTier

from ...factories import CustomerFactory
from ..factories import InquiryFactory
from ..helpers import events_of, fresh
from ..mailkit import make_mail
from .conftest import at, make_calendar, make_policy, make_rule

pytestmark = pytest.mark.django_db

S = InquiryStatus
DEFAULT_TARGETS = {4: (60, 60, 480), 3: (240, 240, 1440), 2: (480, 480, 2400), 1: (960, 960, 4800)}


def deadlines(inquiry: Inquiry) -> dict:
    row = fresh(inquiry)
    return {name: getattr(row, name) for name in ("response_due_at", "resolve_due_at", "due_at", "due_kind", "warn_at")}


RECORD_FIELDS = ("kind", "cycle", "started_at", "stopped_at", "stopped_by", "target_minutes", "taken_seconds", "met")


def records(inquiry: Inquiry) -> list[tuple]:
    return list(
        TargetRecord.objects.filter(inquiry_id=inquiry.pk)
        .order_by("stopped_at", "kind", "cycle")
        .values_list(
            "kind", "cycle", "started_at", "stopped_at", "stopped_by", "target_minutes", "taken_seconds", "met"
        )
    )


def recomputed(inquiry: Inquiry):
    return events_of(inquiry, EventType.DEADLINES_RECOMPUTED)


@pytest.fixture
def open_at(desk, customer):
    """``open_at(when, priority=…, channel=…, …)``: a new inquiry with the customer's message."""

    def make(when, **fields):
        fields.setdefault("customer", customer)
        return desk.at(when, InquiryFactory, **fields)

    return make


# --- R7 an inquiry that arrives on Saturday ------------------------------------------------------


def test_R7_inquiry_opened_on_saturday_counts_from_monday_0900(open_at, default_policy):
    inquiry = open_at(at(8, 14), priority=Priority.URGENT)  # Saturday 14:00
    assert deadlines(inquiry) == {
        "response_due_at": at(10, 10),  # Monday 09:00 + 60 minutes
        "resolve_due_at": at(10, 17),  # Monday 09:00 + 480 minutes: Monday's closing (R6)
        "due_at": at(10, 10),
        "due_kind": DueKind.FIRST_RESPONSE,
        "warn_at": at(10, 9, 45),  # 75 % of 60 minutes after the opening
    }
    assert (fresh(inquiry).policy, fresh(inquiry).calendar) == (default_policy, default_policy.calendar)


# --- R10 policies ------------------------------------------------------------------------------------


def test_R10_the_default_policy_names_the_calendar_and_targets_per_priority(default_policy):
    assert (default_policy.name, default_policy.calendar.name, default_policy.warn_percent) == (
        "Standard",
        "Standard hours",
        75,
    )
    rows = PolicyTarget.objects.filter(policy=default_policy).values_list(
        "priority", "channel", "first_response_minutes", "next_reply_minutes", "resolution_minutes"
    )
    assert {row[0]: row[2:] for row in rows} == DEFAULT_TARGETS
    assert {row[1] for row in rows} == {""}  # any channel


@pytest.mark.parametrize(
    ("priority", "response_due", "resolve_due", "warn"),
    [
        (Priority.URGENT, at(10, 10), at(10, 17), at(10, 9, 45)),  # 1 h; 8 h; 45 min
        (Priority.HIGH, at(10, 13), at(12, 17), at(10, 12)),  # 4 h; 24 h = Wednesday 17:00; 3 h
        (Priority.NORMAL, at(10, 17), at(14, 17), at(10, 15)),  # 8 h; 40 h = Friday 17:00; 6 h
        (Priority.LOW, at(11, 17), at(21, 17), at(11, 13)),  # 16 h; 80 h = ten days; 12 h
    ],
)
def test_R10_each_priority_gets_its_targets_in_business_minutes(open_at, priority, response_due, resolve_due, warn):
    inquiry = open_at(at(10, 9), priority=priority)  # Monday 09:00
    assert deadlines(inquiry) == {
        "response_due_at": response_due,
        "resolve_due_at": resolve_due,
        "due_at": response_due,
        "due_kind": DueKind.FIRST_RESPONSE,
        "warn_at": warn,
    }


def test_R10_a_target_left_empty_is_not_timed(open_at, desk, rep, standard_hours):
    quick = make_policy("Answer only", calendar=standard_hours, targets={Priority.NORMAL: (60, None, None)})
    make_rule(10, quick)
    inquiry = open_at(at(10, 9))
    assert deadlines(inquiry) == {
        "response_due_at": at(10, 10),
        "resolve_due_at": None,  # no resolution target
        "due_at": at(10, 10),
        "due_kind": DueKind.FIRST_RESPONSE,
        "warn_at": at(10, 9, 45),
    }
    desk.at(at(10, 9, 30), services.reply_send, actor=rep, inquiry=inquiry, body="On its way.")
    desk.at(at(10, 10), services.message_receive, actor=rep, inquiry=inquiry, body="Thanks!", channel=Channel.EMAIL)
    # Nothing is timed now: the next reply and the resolution have no target.
    assert deadlines(inquiry) == dict.fromkeys(("response_due_at", "resolve_due_at", "due_at", "warn_at")) | {
        "due_kind": ""
    }


def test_R10_the_warning_share_is_the_policys(open_at, standard_hours):
    make_rule(10, make_policy("Early warning", calendar=standard_hours, targets={2: (60, 60, 480)}, warn_percent=50))
    inquiry = open_at(at(10, 9))
    assert fresh(inquiry).warn_at == at(10, 9, 30)  # 50 % of 60 minutes


def test_R10_targets_and_the_warning_share_must_be_positive(default_policy):
    for bad in ({"first_response_minutes": 0}, {"next_reply_minutes": 0}, {"resolution_minutes": 0}):
        with pytest.raises(IntegrityError), transaction.atomic():
            PolicyTarget.objects.create(policy=default_policy, priority=2, channel=Channel.PHONE, **bad)
    for share in (0, 100):
        with pytest.raises(IntegrityError), transaction.atomic():
            ServicePolicy.objects.filter(pk=default_policy.pk).update(warn_percent=share)


# --- R11 rules --------------------------------------------------------------------------------------


def test_R11_with_no_rule_the_default_policy_applies(open_at, default_policy):
    inquiry = fresh(open_at(at(10, 9)))
    assert (inquiry.policy_id, inquiry.calendar_id) == (default_policy.pk, default_policy.calendar_id)


def test_R11_the_first_active_rule_by_position_chooses_the_policy(open_at, standard_hours):
    fast = make_policy("Fast", calendar=standard_hours, targets={4: (15, 15, 60), 2: (30, 30, 120)})
    slow = make_policy("Slow", calendar=standard_hours, targets={4: (600, 600, 6000), 2: (600, 600, 6000)})
    unused = make_policy("Switched off", calendar=standard_hours, targets={})
    make_rule(30, slow)  # anything
    make_rule(20, fast, priority=Priority.URGENT)
    make_rule(10, unused, is_active=False)  # first, but switched off
    urgent = fresh(open_at(at(10, 9), priority=Priority.URGENT))
    normal = fresh(open_at(at(10, 9), priority=Priority.NORMAL))
    assert (urgent.policy, urgent.response_due_at) == (fast, at(10, 9, 15))
    assert (normal.policy, normal.response_due_at) == (slow, at(11, 11))  # 600 min: Monday 8 h + 2 h


def test_R11_every_condition_of_a_rule_must_match(open_at, default_policy, standard_hours):
    phone_billing = make_policy("Phone billing", calendar=standard_hours, targets={2: (30, 30, 240)})
    make_rule(10, phone_billing, channel=Channel.PHONE, category=Category.BILLING)
    cases = [
        (Channel.PHONE, Category.BILLING, phone_billing),
        (Channel.EMAIL, Category.BILLING, default_policy),
        (Channel.PHONE, Category.DELIVERY, default_policy),
    ]
    for channel, category, policy in cases:
        inquiry = fresh(open_at(at(10, 9), channel=channel, category=category))
        assert inquiry.policy == policy, (channel, category)


def test_R11_a_rule_can_choose_by_customer_tier(open_at, default_policy, standard_hours):
    preferred = make_policy("Preferred customers", calendar=standard_hours, targets={2: (30, 30, 240)})
    make_rule(10, preferred, customer_tier=CustomerTier.PREFERRED)
    vip = CustomerFactory(tier=CustomerTier.PREFERRED)
    theirs = fresh(open_at(at(10, 9), customer=vip))
    others = fresh(open_at(at(10, 9)))
    assert (theirs.policy, theirs.response_due_at, theirs.resolve_due_at) == (preferred, at(10, 9, 30), at(10, 13))
    assert others.policy == default_policy


def test_R11_there_is_exactly_one_default_policy(default_policy, standard_hours):
    with pytest.raises(IntegrityError), transaction.atomic():
        ServicePolicy.objects.create(name="Another default", calendar=standard_hours, is_default=True)


# --- R12 a target for one channel wins -----------------------------------------------------------------


def test_R12_the_target_for_the_inquirys_channel_wins_over_any_channel(open_at, desk, rep, default_policy):
    PolicyTarget.objects.create(
        policy=default_policy,
        priority=Priority.NORMAL,
        channel=Channel.PHONE,
        first_response_minutes=30,
        next_reply_minutes=30,
        resolution_minutes=240,
    )
    phone = open_at(at(10, 10), channel=Channel.PHONE)
    email = open_at(at(10, 10), channel=Channel.EMAIL)
    assert (fresh(phone).response_due_at, fresh(phone).resolve_due_at) == (at(10, 10, 30), at(10, 14))
    # Any channel: 480 minutes from Monday 10:00 → 7 h on Monday + 1 h → Tuesday 10:00.
    assert fresh(email).response_due_at == at(11, 10)
    # A later save (no new choice) reads the rows again, and the channel row still wins.
    desk.at(at(10, 10, 5), services.note_add, actor=rep, inquiry=phone, body="Checking the courier.")
    desk.at(at(10, 10, 5), services.note_add, actor=rep, inquiry=email, body="Checking the courier.")
    assert (fresh(phone).response_due_at, fresh(email).response_due_at) == (at(10, 10, 30), at(11, 10))


# --- R13 the choice is recorded, and made again ------------------------------------------------------


def test_R13_the_chosen_policy_and_calendar_are_recorded_on_the_inquiry(open_at, standard_hours):
    around = make_calendar("Around the clock", hours=[(d, dt.time(0), dt.time(0)) for d in range(7)])
    nights = make_policy("Nights", calendar=around, targets={2: (60, 60, 480)})
    make_rule(10, nights, category=Category.TECHNICAL)
    inquiry = fresh(open_at(at(8, 14), category=Category.TECHNICAL))  # Saturday 14:00
    assert (inquiry.policy, inquiry.calendar) == (nights, around)
    assert inquiry.response_due_at == at(8, 15)  # the calendar is always open: Saturday counts


def test_R13_a_priority_change_chooses_the_policy_again(open_at, desk, rep, default_policy, standard_hours):
    fast = make_policy("Urgent desk", calendar=standard_hours, targets={Priority.URGENT: (45, 45, 120)})
    make_rule(10, fast, priority=Priority.URGENT)
    inquiry = open_at(at(10, 9))
    assert (fresh(inquiry).policy, fresh(inquiry).response_due_at) == (default_policy, at(10, 17))
    desk.at(at(10, 9, 30), services.inquiry_update, actor=rep, inquiry=inquiry, priority=Priority.URGENT)
    row = fresh(inquiry)
    # The 30 minutes used still count: 45 − 30 = 15 left → 09:45; resolution 120 → 11:00.
    assert (row.policy, row.response_due_at, row.resolve_due_at) == (fast, at(10, 9, 45), at(10, 11))
    desk.at(at(10, 9, 40), services.inquiry_update, actor=rep, inquiry=inquiry, priority=Priority.NORMAL)
    assert (fresh(inquiry).policy, fresh(inquiry).response_due_at) == (default_policy, at(10, 17))


def test_R13_a_category_change_chooses_the_policy_again(open_at, desk, rep, standard_hours):
    complaints = make_policy("Complaints", calendar=standard_hours, targets={2: (120, 120, 960)})
    make_rule(10, complaints, category=Category.COMPLAINT)
    inquiry = open_at(at(10, 9))
    desk.at(at(10, 10), services.inquiry_update, actor=rep, inquiry=inquiry, category=Category.COMPLAINT)
    row = fresh(inquiry)
    assert (row.policy, row.response_due_at, row.resolve_due_at) == (complaints, at(10, 11), at(11, 17))


def test_R13_every_recompute_chooses_the_policy_again(open_at, desk, rep, system, default_policy, standard_hours):
    inquiry = open_at(at(10, 9))
    weekend = make_policy("Everything", calendar=standard_hours, targets={2: (60, 60, 480)})
    make_rule(10, weekend)
    # An ordinary save keeps the recorded policy: rules are read again on a recompute.
    desk.at(at(10, 9, 10), services.note_add, actor=rep, inquiry=inquiry, body="Looking.")
    assert fresh(inquiry).policy == default_policy
    job = desk.at(at(10, 9, 20), target_service.rules_changed, actor=system)
    assert (job.policy, job.calendar, job.total) == (None, None, 1)
    desk.at(at(10, 9, 20), target_service.recompute_run, job_id=job.pk)
    row = fresh(inquiry)
    assert (row.policy, row.response_due_at, row.resolve_due_at) == (weekend, at(10, 10), at(10, 17))
    (event,) = recomputed(inquiry)
    assert event.details == {
        "reason": "Policy rules changed",
        "old_due_at": at(10, 17).isoformat(),
        "new_due_at": at(10, 10).isoformat(),
    }


# --- R15 what is a response -------------------------------------------------------------------------


@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.LETTER, Channel.PHONE, Channel.WEB])
def test_R15_a_reply_on_any_channel_is_a_response(open_at, desk, rep, channel):
    inquiry = open_at(at(10, 9), channel=channel)
    desk.at(at(10, 11), services.reply_send, actor=rep, inquiry=inquiry, body="Here is what happened.")
    assert deadlines(inquiry) == {
        "response_due_at": None,  # answered: no reply is owed
        "resolve_due_at": at(14, 17),
        "due_at": at(14, 17),
        "due_kind": DueKind.RESOLUTION,
        "warn_at": at(13, 15),  # 75 % of 40 h = 30 h: Monday to Thursday 15:00
    }
    assert records(inquiry) == [
        (TargetKind.FIRST_RESPONSE, 1, at(10, 9), at(10, 11), "response", 480, 2 * 3600, True),
    ]


@pytest.mark.parametrize("outcome", [CallOutcome.RESOLVED, CallOutcome.INFO_GIVEN, CallOutcome.CALLBACK])
def test_R15_a_call_that_reached_the_customer_is_a_response(open_at, desk, rep, outcome):
    inquiry = open_at(at(10, 9), channel=Channel.PHONE)
    desk.at(
        at(10, 11),
        services.call_log,
        actor=rep,
        inquiry=inquiry,
        direction=CallDirection.OUTBOUND,
        outcome=outcome,
        callback_due_at=at(10, 15) if outcome == CallOutcome.CALLBACK else None,
    )
    row = fresh(inquiry)
    assert row.response_due_at is None
    assert records(inquiry) == [
        (TargetKind.FIRST_RESPONSE, 1, at(10, 9), at(10, 11), "response", 480, 2 * 3600, True),
    ]


@pytest.mark.parametrize("outcome", [CallOutcome.NO_ANSWER, CallOutcome.VOICEMAIL, CallOutcome.WRONG_NUMBER])
def test_R15_notes_status_changes_and_calls_that_did_not_reach_the_customer_are_not_responses(
    open_at, desk, rep, outcome
):
    inquiry = open_at(at(10, 9))
    desk.at(at(10, 9, 30), services.note_add, actor=rep, inquiry=inquiry, body="Asked the warehouse.")
    desk.at(at(10, 10), services.inquiry_set_status, actor=rep, inquiry=inquiry, status=S.WAITING_DEPARTMENT)
    desk.at(at(10, 10, 30), services.inquiry_set_status, actor=rep, inquiry=inquiry, status=S.OPEN)
    desk.at(
        at(10, 11), services.call_log, actor=rep, inquiry=inquiry, direction=CallDirection.OUTBOUND, outcome=outcome
    )
    assert deadlines(inquiry)["response_due_at"] == at(10, 17)  # still owed, from 09:00
    assert deadlines(inquiry)["due_kind"] == DueKind.FIRST_RESPONSE
    assert records(inquiry) == []


def test_R15_the_automatic_acknowledgement_of_the_contact_form_is_not_a_response(
    desk, db, django_capture_on_commit_callbacks
):
    cache.clear()  # the form's rate limit
    form = {"name": "Grace Bautista", "email": "grace@example.com", "subject": "Late", "body": "Where is it?"}
    with django_capture_on_commit_callbacks(execute=True):
        response = desk.at(at(10, 9), Client().post, path="/contact/", data=form)
    cache.clear()
    assert response.status_code == 200
    inquiry = Inquiry.objects.get()
    assert len(mail.outbox) == 1 and inquiry.reference in mail.outbox[0].subject  # acknowledged …
    assert deadlines(inquiry)["response_due_at"] == at(10, 17)  # … but still owed a response
    assert records(inquiry) == []


def test_R15_an_auto_reply_flag_and_answering_outcomes_map_to_the_right_facts():
    """The timeline → facts mapping the recompute and every save share."""
    fact = target_service._fact
    assert fact(EventType.MESSAGE_IN, at(10, 9), None, None, True) is None
    assert fact(EventType.MESSAGE_IN, at(10, 9), None, None, None).kind == "customer_message"
    assert fact(EventType.MESSAGE_OUT, at(10, 9), None, None, None).kind == "response"
    assert fact(EventType.NOTE, at(10, 9), None, None, None) is None
    assert fact(EventType.CALL, at(10, 9), None, CallOutcome.NO_ANSWER.value, None) is None
    assert fact(EventType.CALL, at(10, 9), None, CallOutcome.INFO_GIVEN.value, None).kind == "response"


# --- R16 next reply -------------------------------------------------------------------------------


def test_R16_the_customers_next_message_is_owed_a_reply_from_the_oldest_unanswered(open_at, desk, rep):
    inquiry = open_at(at(10, 9), priority=Priority.URGENT)
    desk.at(at(10, 9, 30), services.reply_send, actor=rep, inquiry=inquiry, body="Checking.")
    desk.at(at(10, 10), services.message_receive, actor=rep, inquiry=inquiry, body="Any news?", channel=Channel.EMAIL)
    desk.at(at(10, 10, 20), services.message_receive, actor=rep, inquiry=inquiry, body="Hello?", channel=Channel.EMAIL)
    row = fresh(inquiry)
    # From 10:00 (not 10:20): + 60 minutes → 11:00.
    assert (row.response_due_at, row.due_at, row.due_kind, row.warn_at) == (
        at(10, 11),
        at(10, 11),
        DueKind.NEXT_REPLY,
        at(10, 10, 45),
    )
    desk.at(at(10, 11, 30), services.reply_send, actor=rep, inquiry=inquiry, body="Sorry for the wait.")
    assert fresh(inquiry).response_due_at is None
    assert records(inquiry)[-1] == (TargetKind.NEXT_REPLY, 1, at(10, 10), at(10, 11, 30), "response", 60, 5400, False)


# --- R17 an automatic reply -------------------------------------------------------------------------


def test_R17_an_out_of_office_reply_starts_no_clock(open_at, desk, rep):
    inquiry = open_at(at(10, 9))
    desk.at(at(10, 10), services.reply_send, actor=rep, inquiry=inquiry, body="We are on it.", then_status=S.RESOLVED)
    before = deadlines(inquiry)
    desk.at(
        at(10, 11),
        services.message_receive,
        actor=rep,
        inquiry=inquiry,
        body="I am out of the office until Monday.",
        channel=Channel.EMAIL,
        reopen=False,
    )
    row = fresh(inquiry)
    assert (row.status, row.message_count) == (S.RESOLVED, 3)  # kept, but nothing moved
    assert (
        deadlines(inquiry)
        == before
        == dict.fromkeys(("response_due_at", "resolve_due_at", "due_at", "warn_at")) | {"due_kind": ""}
    )


def test_R17_an_out_of_office_reply_on_an_open_inquiry_is_owed_nothing(open_at, desk, rep):
    inquiry = open_at(at(10, 9))
    desk.at(at(10, 10), services.reply_send, actor=rep, inquiry=inquiry, body="We are on it.")
    auto = {"actor": rep, "inquiry": inquiry, "channel": Channel.EMAIL, "reopen": False}
    desk.at(at(10, 11), services.message_receive, body="Out of office.", **auto)
    assert (fresh(inquiry).response_due_at, fresh(inquiry).due_kind) == (None, DueKind.RESOLUTION)
    # A real message afterwards is owed a reply from when it came: 12:00 + 8 h → Tuesday 12:00.
    desk.at(at(10, 12), services.message_receive, actor=rep, inquiry=inquiry, body="Any news?", channel=Channel.EMAIL)
    assert fresh(inquiry).response_due_at == at(11, 12)


def _auto_reply(**fields) -> bytes:
    """An out-of-office from the customer's mailbox (RFC 3834 Auto-Submitted)."""
    return b"Auto-Submitted: auto-replied\r\n" + make_mail(text="I am out of the office until Monday.", **fields)


def test_R17_an_out_of_office_mail_in_the_thread_starts_no_clock(open_at, desk, rep):
    asha = CustomerFactory(name="Asha Rao", email="asha@example.com")
    inquiry = open_at(at(10, 9), customer=asha, email_message_id="<first@mail.example.com>")
    desk.at(at(10, 10), services.reply_send, actor=rep, inquiry=inquiry, body="We are on it.")
    raw = _auto_reply(message_id="<ooo@mail.example.com>", in_reply_to="<first@mail.example.com>")
    inbound = desk.at(at(10, 11), mail_ingest, raw=raw, source="test")
    assert inbound.inquiry == inquiry
    assert (fresh(inquiry).response_due_at, fresh(inquiry).due_kind) == (None, DueKind.RESOLUTION)
    # The same words without the header are the customer's: owed a reply by Tuesday 12:00.
    real = make_mail(text="Any news?", message_id="<m2@mail.example.com>", in_reply_to="<first@mail.example.com>")
    desk.at(at(10, 12), mail_ingest, raw=real, source="test")
    assert fresh(inquiry).response_due_at == at(11, 12)


def test_R17_an_out_of_office_mail_outside_any_thread_opens_no_inquiry(desk, db):
    raw = _auto_reply(sender="Ravi Kumar <ravi@example.net>", message_id="<ooo-alone@mail.example.net>")
    inbound = desk.at(at(10, 10), mail_ingest, raw=raw, source="test")
    assert (inbound.state, inbound.inquiry) == ("ignored", None), inbound.error
    assert "automatic" in inbound.error
    assert not Inquiry.objects.exists()


# --- R18 / R20 resolving -----------------------------------------------------------------------------


def test_R18_R20_resolving_stops_every_clock_and_records_it(open_at, desk, rep):
    inquiry = open_at(at(10, 9), priority=Priority.URGENT)
    desk.at(at(10, 9, 30), services.reply_send, actor=rep, inquiry=inquiry, body="Checking.")
    desk.at(at(10, 10), services.message_receive, actor=rep, inquiry=inquiry, body="And?", channel=Channel.EMAIL)
    desk.at(at(10, 10, 40), services.inquiry_set_status, actor=rep, inquiry=inquiry, status=S.RESOLVED)
    assert records(inquiry) == [
        (TargetKind.FIRST_RESPONSE, 1, at(10, 9), at(10, 9, 30), "response", 60, 1800, True),
        (TargetKind.NEXT_REPLY, 1, at(10, 10), at(10, 10, 40), "resolution", 60, 2400, True),
        (TargetKind.RESOLUTION, 1, at(10, 9), at(10, 10, 40), "resolution", 480, 6000, True),
    ]
    row = fresh(inquiry)
    assert (row.due_at, row.warn_at, row.due_kind, row.targets_recorded) == (None, None, "", 3)


# --- R19 pauses --------------------------------------------------------------------------------------


def test_R19_waiting_on_the_customer_pauses_and_their_message_resumes(open_at, desk, rep):
    inquiry = open_at(at(10, 9), priority=Priority.URGENT)
    desk.at(
        at(10, 9, 30),
        services.reply_send,
        actor=rep,
        inquiry=inquiry,
        body="Which colour did you order?",
        then_status=S.WAITING_CUSTOMER,
    )
    # First response answered; resolution paused with 30 minutes used: nothing is due.
    assert deadlines(inquiry) == dict.fromkeys(("response_due_at", "resolve_due_at", "due_at", "warn_at")) | {
        "due_kind": ""
    }
    desk.at(at(11, 10), services.message_receive, actor=rep, inquiry=inquiry, body="Blue.", channel=Channel.EMAIL)
    assert fresh(inquiry).status == S.OPEN
    assert deadlines(inquiry) == {
        "response_due_at": at(11, 11),  # next reply: Tuesday 10:00 + 60 minutes
        # Resolution: 450 minutes left from Tuesday 10:00 → 7 h on Tuesday + 30 min → Wednesday 09:30.
        "resolve_due_at": at(12, 9, 30),
        "due_at": at(11, 11),
        "due_kind": DueKind.NEXT_REPLY,
        # Next reply at risk at 45 min (10:45); resolution at 360 − 30 = 330 min (Tuesday 15:30).
        "warn_at": at(11, 10, 45),
    }


def test_R19_waiting_on_a_department_does_not_pause(open_at, desk, rep):
    inquiry = open_at(at(10, 9), priority=Priority.URGENT)
    desk.at(at(10, 9, 30), services.reply_send, actor=rep, inquiry=inquiry, body="Asking the warehouse.")
    desk.at(at(10, 9, 40), services.inquiry_set_status, actor=rep, inquiry=inquiry, status=S.WAITING_DEPARTMENT)
    assert (fresh(inquiry).resolve_due_at, fresh(inquiry).due_at) == (at(10, 17), at(10, 17))


def test_R19_a_waiting_inquiry_taken_back_by_the_desk_resumes(open_at, desk, rep):
    inquiry = open_at(at(10, 9), priority=Priority.URGENT)
    desk.at(at(10, 10), services.inquiry_set_status, actor=rep, inquiry=inquiry, status=S.WAITING_CUSTOMER)
    # The first response does not pause (R14): still due at 10:00 and now breached.
    assert deadlines(inquiry)["response_due_at"] == at(10, 10)
    assert deadlines(inquiry)["resolve_due_at"] is None
    desk.at(at(11, 9), services.inquiry_set_status, actor=rep, inquiry=inquiry, status=S.OPEN)
    # Resolution: 1 h used before the pause, 7 h from Tuesday 09:00 → Tuesday 16:00.
    assert deadlines(inquiry)["resolve_due_at"] == at(11, 16)


# --- R21 reopening ----------------------------------------------------------------------------------


def test_R21_the_customers_message_reopens_resolution_with_its_time_and_owes_a_reply(open_at, desk, rep):
    inquiry = open_at(at(10, 9), priority=Priority.URGENT)
    desk.at(at(10, 9, 30), services.reply_send, actor=rep, inquiry=inquiry, body="Refunded.", then_status=S.RESOLVED)
    assert records(inquiry) == [
        (TargetKind.FIRST_RESPONSE, 1, at(10, 9), at(10, 9, 30), "response", 60, 1800, True),
        (TargetKind.RESOLUTION, 1, at(10, 9), at(10, 9, 30), "resolution", 480, 1800, True),
    ]
    desk.at(at(12, 10), services.message_receive, actor=rep, inquiry=inquiry, body="Not received.", channel="email")
    row = fresh(inquiry)
    assert (row.status, row.reopen_count) == (S.OPEN, 1)
    assert deadlines(inquiry) == {
        "response_due_at": at(12, 11),  # next reply from the reopening, Wednesday 10:00
        # Resolution: 30 minutes used before; 450 left from Wednesday 10:00 → Thursday 09:30.
        # Monday 09:30 to Wednesday 10:00, resolved, does not count.
        "resolve_due_at": at(13, 9, 30),
        "due_at": at(12, 11),
        "due_kind": DueKind.NEXT_REPLY,
        "warn_at": at(12, 10, 45),
    }
    desk.at(at(12, 11), services.inquiry_set_status, actor=rep, inquiry=inquiry, status=S.RESOLVED)
    # The second cycle's record carries the first's time: 30 min + 1 h.
    assert records(inquiry)[-1] == (TargetKind.RESOLUTION, 2, at(12, 10), at(12, 11), "resolution", 480, 5400, True)


def test_R21_reopened_by_the_desk_nothing_is_owed_to_the_customer(open_at, desk, rep):
    inquiry = open_at(at(10, 9), priority=Priority.URGENT)
    desk.at(at(10, 9, 30), services.reply_send, actor=rep, inquiry=inquiry, body="Done.", then_status=S.RESOLVED)
    desk.at(at(12, 10), services.inquiry_set_status, actor=rep, inquiry=inquiry, status=S.OPEN)
    assert deadlines(inquiry) == {
        "response_due_at": None,
        "resolve_due_at": at(13, 9, 30),
        "due_at": at(13, 9, 30),
        "due_kind": DueKind.RESOLUTION,
        "warn_at": at(12, 15, 30),  # 330 minutes left to 75 %: Wednesday 10:00 + 5.5 h
    }


# --- R22 changes mid-flight ----------------------------------------------------------------------------


def test_R22_a_policy_change_mid_flight_keeps_the_time_used_and_moves_the_deadline(
    open_at, desk, rep, supervisor, default_policy
):
    inquiry = open_at(at(10, 9))  # normal: first response Monday 17:00, resolution Friday 17:00
    other = open_at(at(10, 9), priority=Priority.HIGH)
    PolicyTarget.objects.filter(policy=default_policy, priority=Priority.NORMAL).update(
        first_response_minutes=120, resolution_minutes=600
    )
    job = desk.at(at(10, 13), target_service.policy_changed, actor=supervisor, policy=default_policy)
    assert (job.reason, job.requested_by, job.total, job.state) == (
        "Policy “Standard” changed",
        "supervisor1",
        2,
        RecomputeState.PENDING,
    )
    desk.at(at(10, 13), target_service.recompute_run, job_id=job.pk)
    assert deadlines(inquiry) == {
        "response_due_at": at(10, 11),  # 120 minutes from 09:00: breached at once (it is 13:00)
        "resolve_due_at": at(11, 11),  # 600 minutes: Monday 8 h + Tuesday 2 h
        "due_at": at(10, 11),
        "due_kind": DueKind.FIRST_RESPONSE,
        "warn_at": at(10, 10, 30),  # 75 % of 120 = 90 minutes
    }
    assert recomputed(other) == []  # its targets did not change
    # The four hours used so far still count when the reply goes out.
    desk.at(at(10, 14), services.reply_send, actor=rep, inquiry=inquiry, body="Sorry for the wait.")
    assert records(inquiry) == [
        (TargetKind.FIRST_RESPONSE, 1, at(10, 9), at(10, 14), "response", 120, 5 * 3600, False),
    ]


def test_R22_a_priority_change_mid_flight_can_breach_at_once(open_at, desk, rep):
    inquiry = open_at(at(10, 9))
    desk.at(at(10, 11), services.inquiry_update, actor=rep, inquiry=inquiry, priority=Priority.URGENT)
    assert deadlines(inquiry) == {
        "response_due_at": at(10, 10),  # 60 minutes were up at 10:00: breached already
        "resolve_due_at": at(10, 17),
        "due_at": at(10, 10),
        "due_kind": DueKind.FIRST_RESPONSE,
        "warn_at": at(10, 9, 45),
    }


def test_R22_a_policy_change_to_another_calendar_keeps_the_business_time_already_used(open_at, desk, rep, system):
    around = make_calendar("Around the clock", hours=[(d, dt.time(0), dt.time(0)) for d in range(7)])
    make_rule(10, make_policy("Urgent desk", calendar=around, targets={4: (120, 120, 480)}), priority=Priority.URGENT)
    inquiry = open_at(at(7, 16))  # normal, Friday 16:00 on Standard hours
    desk.at(at(10, 9), services.inquiry_update, actor=rep, inquiry=inquiry, priority=Priority.URGENT)
    row = fresh(inquiry)
    assert (row.policy.name, row.calendar) == ("Urgent desk", around)
    # Used before the change: Friday 16:00–17:00 on Standard hours = 1 h (the weekend does not
    # count: it was spent under Standard hours). 120 − 60 = 60 minutes left around the clock from
    # Monday 09:00 → 10:00.
    assert row.response_due_at == at(10, 10)
    # Resolution: 480 − 60 = 420 minutes from Monday 09:00 → 16:00.
    assert row.resolve_due_at == at(10, 16)
    move = InquiryEvent.objects.get(inquiry=inquiry, type=EventType.POLICY_CHANGED)
    assert (move.details["old_name"], move.details["new_name"]) == ("Standard", "Urgent desk")
    assert move.created_at == at(10, 9)
    # A recompute replays the same history, and gives the same answer.
    job = desk.at(at(10, 9, 30), target_service.rules_changed, actor=system)
    desk.at(at(10, 9, 30), target_service.recompute_run, job_id=job.pk)
    assert (fresh(inquiry).response_due_at, fresh(inquiry).resolve_due_at) == (at(10, 10), at(10, 16))


def test_R22_a_rule_that_moves_open_inquiries_keeps_their_time_too(open_at, desk, system):
    inquiry = open_at(at(7, 16))  # normal, Friday 16:00 on Standard hours: 1 h used by Monday 09:00
    around = make_calendar("Around the clock", hours=[(d, dt.time(0), dt.time(0)) for d in range(7)])
    make_rule(10, make_policy("Everyone 24/7", calendar=around, targets={2: (120, 120, 480)}))
    job = desk.at(at(10, 9), target_service.rules_changed, actor=system)
    desk.at(at(10, 9), target_service.recompute_run, job_id=job.pk)
    row = fresh(inquiry)
    assert row.policy.name == "Everyone 24/7"
    assert (row.response_due_at, row.resolve_due_at) == (at(10, 10), at(10, 16))  # as above
    assert InquiryEvent.objects.filter(inquiry=inquiry, type=EventType.POLICY_CHANGED).count() == 1


# --- R25 callbacks ----------------------------------------------------------------------------------


def test_R25_R30_a_callback_is_due_at_the_promised_wall_clock_time(open_at, desk, rep):
    inquiry = open_at(at(7, 16), priority=Priority.LOW)  # Friday 16:00
    # Low: first response 960 min = Friday 1 h + Monday 8 h + Tuesday 7 h → Tuesday 16:00.
    assert fresh(inquiry).response_due_at == at(11, 16)
    callback = desk.at(at(7, 16), services.callback_promise, actor=rep, inquiry=inquiry, due_at=at(8, 10))
    assert deadlines(inquiry) == {
        "response_due_at": at(11, 16),
        # Resolution 4800 min = 80 h: Friday 1 h, 40 h next week, then 39 h → Friday 21st 16:00.
        "resolve_due_at": at(21, 16),
        "due_at": at(8, 10),  # Saturday 10:00: a promise is kept on the clock, not in business time
        "due_kind": DueKind.CALLBACK,
        "warn_at": at(8, 5, 30),  # 75 % of the 18 h between the promise and the time: 13.5 h
    }
    desk.at(at(8, 9), services.callback_complete, actor=rep, callback=callback)
    assert records(inquiry) == [
        # The promised lead (18 h) is the target; done 17 h after the promise: met.
        (TargetKind.CALLBACK, callback.pk, at(7, 16), at(8, 9), "callback", 18 * 60, 17 * 3600, True),
    ]
    assert deadlines(inquiry) == {
        "response_due_at": at(11, 16),
        "resolve_due_at": at(21, 16),
        "due_at": at(11, 16),
        "due_kind": DueKind.FIRST_RESPONSE,
        "warn_at": at(11, 12),  # 720 min: Friday 1 h + Monday 8 h + Tuesday 3 h
    }


def test_R30_a_late_callback_is_recorded_as_missed_and_a_cancelled_one_not_at_all(open_at, desk, rep):
    inquiry = open_at(at(10, 9), priority=Priority.LOW)
    late = desk.at(at(10, 10), services.callback_promise, actor=rep, inquiry=inquiry, due_at=at(10, 11))
    dropped = desk.at(at(10, 10), services.callback_promise, actor=rep, inquiry=inquiry, due_at=at(10, 12))
    assert (fresh(inquiry).due_at, fresh(inquiry).due_kind) == (at(10, 11), DueKind.CALLBACK)
    # Two promises: the earliest warning wins (10:00 + 75 % of 1 h).
    assert fresh(inquiry).warn_at == at(10, 10, 45)
    desk.at(at(10, 11, 30), services.callback_complete, actor=rep, callback=late)
    desk.at(at(10, 11, 40), services.callback_complete, actor=rep, callback=dropped, cancelled=True)
    assert records(inquiry) == [
        (TargetKind.CALLBACK, late.pk, at(10, 10), at(10, 11, 30), "callback", 60, 5400, False),
    ]


def test_R25_a_callback_is_at_risk_at_the_policys_warning_share(open_at, desk, rep, standard_hours):
    make_rule(10, make_policy("Half way", calendar=standard_hours, targets={2: (None, None, None)}, warn_percent=50))
    inquiry = open_at(at(10, 9))
    desk.at(at(10, 10), services.callback_promise, actor=rep, inquiry=inquiry, due_at=at(10, 14))
    row = fresh(inquiry)
    # Nothing else is timed. At risk half way between the promise (10:00) and the time (14:00).
    assert (row.due_at, row.due_kind, row.warn_at) == (at(10, 14), DueKind.CALLBACK, at(10, 12))


def test_R25_a_call_that_promises_a_callback_answers_and_sets_the_callback(open_at, desk, rep):
    inquiry = open_at(at(10, 9))
    desk.at(
        at(10, 10),
        services.call_log,
        actor=rep,
        inquiry=inquiry,
        direction=CallDirection.INBOUND,
        outcome=CallOutcome.CALLBACK,
        callback_due_at=at(10, 15),
    )
    assert deadlines(inquiry) == {
        "response_due_at": None,
        "resolve_due_at": at(14, 17),
        "due_at": at(10, 15),
        "due_kind": DueKind.CALLBACK,
        "warn_at": at(10, 13, 45),  # 10:00 + 75 % of 5 h
    }


# --- R26 plan steps ---------------------------------------------------------------------------------


def test_R26_a_plan_step_is_due_at_2359_on_its_day_and_at_risk_from_its_start(open_at, desk, rep):
    inquiry = open_at(at(10, 10), priority=Priority.LOW)
    desk.at(at(10, 10), services.plan_step_add, actor=rep, inquiry=inquiry, title="Ask", due_date=dt.date(2031, 3, 10))
    assert deadlines(inquiry) == {
        "response_due_at": at(12, 10),  # 960 min: Monday 7 h + Tuesday 8 h + Wednesday 1 h
        "resolve_due_at": at(24, 10),  # 4800 min = 80 h: Monday 7 h … ten working days on
        "due_at": at(10, 23, 59),
        "due_kind": DueKind.PLAN_STEP,
        "warn_at": at(10, 0, 0),
    }


def test_R26_a_later_plan_step_counts_only_if_it_is_nearest(open_at, desk, rep):
    inquiry = open_at(at(10, 10), priority=Priority.LOW)
    desk.at(at(10, 10), services.plan_step_add, actor=rep, inquiry=inquiry, title="Ask", due_date=dt.date(2031, 3, 13))
    row = fresh(inquiry)
    assert (row.due_at, row.due_kind) == (at(12, 10), DueKind.FIRST_RESPONSE)
    # At risk: the first response at 720 min (Monday 7 h + Tuesday 5 h = Tuesday 14:00) before
    # the plan step's day (Thursday 00:00).
    assert row.warn_at == at(11, 14)


def test_R26_the_plan_step_day_is_in_the_desks_time_zone(open_at, desk, rep, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    inquiry = open_at(at(10, 10), priority=Priority.LOW)
    desk.at(at(10, 10), services.plan_step_add, actor=rep, inquiry=inquiry, title="Ask", due_date=dt.date(2031, 3, 10))
    row = fresh(inquiry)
    # 10 March 23:59 in Kolkata (UTC+05:30) is 18:29 UTC; its start is 9 March 18:30 UTC.
    assert (row.due_at, row.due_kind, row.warn_at) == (at(10, 18, 29), DueKind.PLAN_STEP, at(9, 18, 30))


# --- R27 what is due next ---------------------------------------------------------------------------


def test_R27_due_at_is_the_nearest_deadline_and_warn_at_the_earliest_warning(open_at, desk, rep):
    inquiry = open_at(at(10, 9), priority=Priority.HIGH)  # first response 13:00 (warn 12:00)
    desk.at(at(10, 9), services.callback_promise, actor=rep, inquiry=inquiry, due_at=at(10, 14))
    row = fresh(inquiry)
    # The callback (14:00) is later than the first response; its warning (09:00 + 3.75 h =
    # 12:45) later than the first response's (12:00).
    assert (row.due_at, row.due_kind, row.warn_at) == (at(10, 13), DueKind.FIRST_RESPONSE, at(10, 12))
    desk.at(at(10, 9, 30), services.reply_send, actor=rep, inquiry=inquiry, body="Calling you at two.")
    row = fresh(inquiry)
    # Now the callback is nearest; resolution (24 h → Wednesday 17:00) warns at 18 h (Wednesday 11:00).
    assert (row.due_at, row.due_kind, row.warn_at) == (at(10, 14), DueKind.CALLBACK, at(10, 12, 45))


def test_R27_a_resolved_or_closed_inquiry_has_nothing_due(open_at, desk, rep):
    inquiry = open_at(at(10, 9))
    desk.at(at(10, 9), services.callback_promise, actor=rep, inquiry=inquiry, due_at=at(10, 14))
    desk.at(at(10, 9), services.plan_step_add, actor=rep, inquiry=inquiry, title="Ask", due_date=dt.date(2031, 3, 11))
    for status in (S.RESOLVED, S.CLOSED):
        desk.at(
            at(10, 10),
            services.inquiry_set_status,
            actor=rep,
            inquiry=inquiry,
            status=status,
            override_open_steps=True,
            reason="Sorted on the phone.",
        )
        assert deadlines(inquiry) == dict.fromkeys(("response_due_at", "resolve_due_at", "due_at", "warn_at")) | {
            "due_kind": ""
        }


def test_R27_queues_sort_by_due_at(open_at):
    made = {p: open_at(at(10, 9), priority=p) for p in (Priority.NORMAL, Priority.LOW, Priority.URGENT, Priority.HIGH)}
    order = list(Inquiry.objects.filter(pk__in=[i.pk for i in made.values()]).order_by("due_at", "pk"))
    assert [i.priority for i in order] == [Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW]


# --- R29 records -------------------------------------------------------------------------------------


def test_R29_a_stopped_clock_writes_one_record_that_later_edits_do_not_change(
    open_at, desk, rep, supervisor, default_policy
):
    inquiry = open_at(at(10, 9))
    desk.at(at(10, 10), services.reply_send, actor=rep, inquiry=inquiry, body="On its way.")
    first = records(inquiry)
    assert first == [(TargetKind.FIRST_RESPONSE, 1, at(10, 9), at(10, 10), "response", 480, 3600, True)]
    (row,) = TargetRecord.objects.filter(inquiry_id=inquiry.pk)
    assert row.policy == default_policy
    # More saves write nothing new.
    desk.at(at(10, 11), services.note_add, actor=rep, inquiry=inquiry, body="Tracking sent.")
    desk.at(at(10, 12), services.inquiry_update, actor=rep, inquiry=inquiry, priority=Priority.URGENT)
    assert records(inquiry) == first
    assert fresh(inquiry).targets_recorded == 1
    # A stricter policy afterwards, recomputed: the record keeps the target in force then.
    PolicyTarget.objects.filter(policy=default_policy).update(first_response_minutes=30)
    job = desk.at(at(10, 13), target_service.policy_changed, actor=supervisor, policy=default_policy)
    desk.at(at(10, 13), target_service.recompute_run, job_id=job.pk)
    assert records(inquiry) == first
    assert TargetRecord.objects.filter(inquiry_id=inquiry.pk).count() == 1


# --- R31 / R32 recompute -------------------------------------------------------------------------------


@pytest.fixture
def three_high(open_at):
    """Three high-priority inquiries opened Monday 09:00: first response due 13:00."""
    return [open_at(at(10, 9), priority=Priority.HIGH) for _ in range(3)]


def test_R31_R32_a_recompute_writes_only_the_inquiries_whose_deadlines_changed(
    open_at, desk, supervisor, default_policy, standard_hours, three_high
):
    normal = open_at(at(10, 9))
    done = open_at(at(10, 9), priority=Priority.HIGH, status=S.RESOLVED)
    elsewhere = open_at(at(10, 9), priority=Priority.HIGH, category=Category.BILLING)  # before the rule: default
    make_rule(10, make_policy("Billing", calendar=standard_hours, targets={3: (30, 30, 60)}), category="billing")
    PolicyTarget.objects.filter(policy=default_policy, priority=Priority.HIGH).update(first_response_minutes=120)
    versions = {i.pk: fresh(i).version for i in [normal, done, *three_high]}
    job = desk.at(at(10, 9, 30), target_service.policy_changed, actor=supervisor, policy=default_policy)
    assert job.total == 5  # the open inquiries on the policy: not the resolved one
    finished = desk.at(at(10, 9, 30), target_service.recompute_run, job_id=job.pk)
    assert (finished.state, finished.done, finished.finished_at) == (RecomputeState.DONE, 5, at(10, 9, 30))
    for inquiry in three_high:
        row = fresh(inquiry)
        assert (row.response_due_at, row.due_at, row.version) == (at(10, 11), at(10, 11), versions[inquiry.pk] + 1)
        (event,) = recomputed(inquiry)
        assert (event.actor_name, event.created_at, event.details) == (
            "deadline recompute (supervisor1)",
            at(10, 9, 30),
            {
                "reason": "Policy “Standard” changed",
                "old_due_at": at(10, 13).isoformat(),
                "new_due_at": at(10, 11).isoformat(),
            },
        )
    # Unchanged deadlines: not written, no event.
    assert (recomputed(normal), fresh(normal).version) == ([], versions[normal.pk])
    assert (recomputed(done), fresh(done).version) == ([], versions[done.pk])
    # Re-chosen by the new rule (every recompute chooses again), so written too.
    row = fresh(elsewhere)
    assert (row.policy.name, row.response_due_at, len(recomputed(elsewhere))) == ("Billing", at(10, 9, 30), 1)


def test_R31_a_recompute_runs_in_batches_and_resumes_after_a_failure(
    desk, supervisor, default_policy, three_high, monkeypatch
):
    PolicyTarget.objects.filter(policy=default_policy, priority=Priority.HIGH).update(first_response_minutes=60)
    job = desk.at(at(10, 9, 30), target_service.policy_changed, actor=supervisor, policy=default_policy)
    real, calls = target_service.recompute_batch, []

    def second_batch_fails(ids, **kwargs):
        calls.append(list(ids))
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real(ids, **kwargs)

    monkeypatch.setattr(target_service, "recompute_batch", second_batch_fails)
    with pytest.raises(RuntimeError):
        desk.at(at(10, 9, 30), target_service.recompute_run, job_id=job.pk, batch_size=1)
    first, second, _third = three_high
    job.refresh_from_db()
    assert (job.state, job.done, job.last_id, job.error) == (RecomputeState.FAILED, 1, first.pk, "database went away")
    assert [fresh(i).response_due_at for i in three_high] == [at(10, 10), at(10, 13), at(10, 13)]  # batch 1 kept

    monkeypatch.setattr(target_service, "recompute_batch", real)
    finished = desk.at(at(10, 9, 35), target_service.recompute_run, job_id=job.pk, batch_size=1)
    assert (finished.state, finished.done) == (RecomputeState.DONE, 3)
    assert calls == [[first.pk], [second.pk]]
    assert [fresh(i).response_due_at for i in three_high] == [at(10, 10)] * 3
    assert [len(recomputed(i)) for i in three_high] == [1, 1, 1]  # each written once


def test_R31_a_finished_recompute_is_left_alone(desk, supervisor, default_policy, three_high):
    PolicyTarget.objects.filter(policy=default_policy, priority=Priority.HIGH).update(first_response_minutes=60)
    job = desk.at(at(10, 9, 30), target_service.policy_changed, actor=supervisor, policy=default_policy)
    desk.at(at(10, 9, 30), target_service.recompute_run, job_id=job.pk)
    before = TargetRecompute.objects.values().get(pk=job.pk)
    versions = [fresh(i).version for i in three_high]
    again = desk.at(at(10, 10), target_service.recompute_run, job_id=job.pk)
    assert again.state == RecomputeState.DONE
    assert TargetRecompute.objects.values().get(pk=job.pk) == before
    assert [fresh(i).version for i in three_high] == versions
    assert [len(recomputed(i)) for i in three_high] == [1, 1, 1]


def test_R31_a_new_recompute_with_nothing_changed_writes_nothing(desk, supervisor, default_policy, three_high):
    versions = [fresh(i).version for i in three_high]
    job = desk.at(at(10, 9, 30), target_service.policy_changed, actor=supervisor, policy=default_policy)
    finished = desk.at(at(10, 9, 30), target_service.recompute_run, job_id=job.pk, batch_size=2)
    assert (finished.state, finished.done) == (RecomputeState.DONE, 3)
    assert [fresh(i).version for i in three_high] == versions
    assert [recomputed(i) for i in three_high] == [[], [], []]


def test_R31_a_calendar_change_recomputes_the_inquiries_on_that_calendar(
    open_at, desk, supervisor, standard_hours, three_high
):
    normal = open_at(at(10, 9))  # resolution Friday 14th 17:00
    standard_hours.holidays.create(date=dt.date(2031, 3, 12), name="Closed for stocktaking")  # Wednesday
    job = desk.at(at(10, 9, 30), target_service.calendar_changed, actor=supervisor, calendar=standard_hours)
    assert (job.calendar, job.total, job.reason) == (standard_hours, 4, "Calendar “Standard hours” changed")
    standard_hours.refresh_from_db()
    assert standard_hours.version == 2  # every process drops its cached arithmetic
    desk.at(at(10, 9, 30), target_service.recompute_run, job_id=job.pk)
    # 40 business hours without Wednesday: Monday, Tuesday, Thursday, Friday, Monday 17th 17:00.
    assert (fresh(normal).resolve_due_at, fresh(normal).due_at) == (at(17, 17), at(10, 17))
    (event,) = recomputed(normal)
    assert event.details["old_due_at"] == event.details["new_due_at"] == at(10, 17).isoformat()
    # High: resolution 24 h → Wednesday 17:00 moves to Thursday 17:00.
    assert [fresh(i).resolve_due_at for i in three_high] == [at(13, 17)] * 3


def test_R31_the_sweep_claims_the_oldest_waiting_job_and_one_a_worker_left_stalled(desk, system):
    older = desk.at(at(10, 9), target_service.rules_changed, actor=system, reason="first")
    newer = desk.at(at(10, 9, 1), target_service.rules_changed, actor=system, reason="second")
    assert desk.at(at(10, 9, 2), target_service.recompute_claim) == older.pk
    assert desk.at(at(10, 9, 2), target_service.recompute_claim) == newer.pk
    assert desk.at(at(10, 9, 3), target_service.recompute_claim) is None  # both running, and alive
    # A worker that shows no progress for five minutes has died: the next sweep takes its job over.
    assert desk.at(at(10, 9, 7), target_service.recompute_claim) is None  # five minutes exactly: not yet
    assert desk.at(at(10, 9, 8), target_service.recompute_claim) == older.pk
    older.refresh_from_db()
    assert (older.state, older.heartbeat_at) == (RecomputeState.RUNNING, at(10, 9, 8))


def test_R31_only_a_target_configurer_may_ask_for_a_recompute(rep, system, default_policy):
    with pytest.raises(PermissionDenied):
        target_service.policy_changed(actor=rep, policy=default_policy)
    with pytest.raises(PermissionDenied):
        target_service.rules_changed(actor=rep)
    with pytest.raises(InvalidInput):
        target_service.recompute_request(actor=system, reason="   ")
    assert not TargetRecompute.objects.exists()


# --- time zones ---------------------------------------------------------------------------------------


def test_R3_R5_a_calendar_in_asia_kolkata_counts_its_own_wall_clock_hours(open_at, desk, rep):
    chennai = make_calendar(
        "Chennai desk",
        time_zone="Asia/Kolkata",
        hours=[(d, dt.time(9, 30), dt.time(18)) for d in range(5)],  # 8.5 h a day
        holidays=[dt.date(2031, 3, 11)],  # Tuesday
    )
    india = make_policy("India", calendar=chennai, targets={2: (60, 120, 1020)})
    make_rule(10, india, category=Category.BILLING)
    # Monday 10 March 03:00 UTC is 08:30 in Kolkata (UTC+05:30): before opening.
    inquiry = open_at(at(10, 3), category=Category.BILLING)
    assert (fresh(inquiry).policy, fresh(inquiry).calendar) == (india, chennai)
    assert deadlines(inquiry) == {
        "response_due_at": at(10, 5),  # 09:30 + 60 min = 10:30 IST = 05:00 UTC
        # 1020 min = two days of 8.5 h: Monday, then (Tuesday is a holiday) Wednesday 18:00 IST.
        "resolve_due_at": at(12, 12, 30),
        "due_at": at(10, 5),
        "due_kind": DueKind.FIRST_RESPONSE,
        "warn_at": at(10, 4, 45),  # 45 min → 10:15 IST
    }
    # The customer writes at 18:00 UTC on Monday (23:30 IST), after hours; Tuesday is the
    # holiday: the next reply counts from Wednesday 09:30 IST (04:00 UTC), due 06:00 UTC.
    desk.at(at(10, 4), services.reply_send, actor=rep, inquiry=inquiry, body="Looking into it.")
    desk.at(at(10, 18), services.message_receive, actor=rep, inquiry=inquiry, body="Thanks", channel="email")
    assert fresh(inquiry).response_due_at == at(12, 6)


def test_R3_a_calendar_across_a_daylight_saving_change_keeps_its_local_hours(open_at, desk, rep):
    new_york = make_calendar("New York", time_zone="America/New_York")  # Monday–Friday 09:00–17:00
    make_rule(10, make_policy("US", calendar=new_york, targets={2: (120, 120, 480)}), channel=Channel.LETTER)
    # Friday 7 March 16:00 EST (UTC−5) = 21:00 UTC. The clocks go forward on Sunday 9th.
    inquiry = open_at(at(7, 21), channel=Channel.LETTER)
    assert deadlines(inquiry) == {
        # 1 h on Friday, 1 h from Monday 09:00 EDT (UTC−4, 13:00 UTC) → 10:00 EDT = 14:00 UTC.
        "response_due_at": at(10, 14),
        # 1 h on Friday, 7 h on Monday → 16:00 EDT = 20:00 UTC.
        "resolve_due_at": at(10, 20),
        "due_at": at(10, 14),
        "due_kind": DueKind.FIRST_RESPONSE,
        "warn_at": at(10, 13, 30),  # 90 min: Friday 1 h + Monday 30 min → 09:30 EDT
    }
    desk.at(at(10, 13, 30), services.reply_send, actor=rep, inquiry=inquiry, body="Replying by letter.")
    # Friday 16:00 EST to Monday 09:30 EDT: 1.5 business hours, though 64.5 hours passed.
    assert records(inquiry) == [
        (TargetKind.FIRST_RESPONSE, 1, at(7, 21), at(10, 13, 30), "response", 120, 90 * 60, True),
    ]


def test_R22_R32_the_timeline_shows_the_policy_change_and_the_recompute(open_at, desk, rep, system, client):
    around = make_calendar("Around the clock", hours=[(d, dt.time(0), dt.time(0)) for d in range(7)])
    make_rule(10, make_policy("Urgent desk", calendar=around, targets={4: (120, 120, 480)}), priority=Priority.URGENT)
    inquiry = open_at(at(7, 16))
    desk.at(at(10, 9), services.inquiry_update, actor=rep, inquiry=inquiry, priority=Priority.URGENT)
    job = desk.at(at(10, 9, 30), target_service.rules_changed, actor=system, reason="Weekend cover <b>added</b>")
    PolicyTarget.objects.filter(policy__name="Urgent desk").update(first_response_minutes=150)
    desk.at(at(10, 9, 30), target_service.recompute_run, job_id=job.pk)
    client.force_login(rep)
    with clock.frozen(at(10, 9, 31)):
        page = client.get(f"/inquiries/{inquiry.pk}/").content.decode()
    assert "Service policy changed" in page and "Standard → Urgent desk" in page
    assert "Deadlines recomputed" in page
    assert "Weekend cover &lt;b&gt;added&lt;/b&gt;" in page  # escaped
