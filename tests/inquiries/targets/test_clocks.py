"""The clocks (docs/service-targets.md R14–R24), on hand-built histories: pure, no database.

Calendar: Monday to Friday 09:00–17:00 UTC. Monday 10 March 2031 is ``at(10)``; the week before
starts on Monday 3 March. Targets (business minutes): first response 60, next reply 120,
resolution 480, at risk from 75 %.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from inquiries.targets.businesstime import BusinessCalendar
from inquiries.targets.clocks import (
    BY_RESOLUTION,
    BY_RESPONSE,
    CREATED,
    CUSTOMER_MESSAGE,
    FIRST_RESPONSE,
    NEXT_REPLY,
    PAUSED,
    RESOLUTION,
    RESPONSE,
    RUNNING,
    STATUS,
    STOPPED,
    Fact,
    Targets,
    compute,
)

from .conftest import HOUR, MINUTE, PROPERTIES, at, office

CALENDAR = office()
TARGETS = Targets(first_response=60, next_reply=120, resolution=480)
ZERO = dt.timedelta(0)
MICROSECOND = dt.timedelta(microseconds=1)


def opened(when):
    return Fact(when, CREATED, "new")


def status(when, new):
    return Fact(when, STATUS, new)


def message(when):
    return Fact(when, CUSTOMER_MESSAGE)


def response(when):
    return Fact(when, RESPONSE)


def run(*facts, targets=TARGETS, calendar=CALENDAR):
    return compute(facts, targets=targets, calendar=calendar)


def clock_of(result, kind, cycle=1):
    (found,) = [c for c in result.all if c.kind == kind and c.cycle == cycle]
    return found


# --- R14 first response -----------------------------------------------------------------------------


def test_R14_first_response_runs_from_the_opening_to_the_first_response():
    result = run(opened(at(10, 9)), response(at(10, 9, 45)))
    first = clock_of(result, FIRST_RESPONSE)
    assert (first.started_at, first.state, first.stopped_at, first.stopped_by) == (
        at(10, 9),
        STOPPED,
        at(10, 9, 45),
        BY_RESPONSE,
    )
    assert first.taken == 45 * MINUTE  # 09:00 → 09:45
    assert first.met is True
    assert first.due_at is None  # stopped before it reached its target
    assert result.current(NEXT_REPLY) is None


def test_R14_first_response_deadline_counts_business_time():
    result = run(opened(at(10, 16, 30)))
    first = clock_of(result, FIRST_RESPONSE)
    # 30 minutes on Monday (16:30–17:00) + 30 on Tuesday → Tuesday 09:30.
    assert first.due_at == at(11, 9, 30)
    # 75 % of 60 = 45 minutes: 30 on Monday + 15 on Tuesday → Tuesday 09:15.
    assert first.warn_at == at(11, 9, 15)
    assert result.response is first
    assert first in result.live


def test_R14_a_late_first_response_is_not_met_and_keeps_its_deadline():
    result = run(opened(at(10, 9)), response(at(10, 11)))
    first = clock_of(result, FIRST_RESPONSE)
    assert first.taken == 2 * HOUR
    assert first.met is False
    assert (first.due_at, first.warn_at) == (at(10, 10), at(10, 9, 45))  # when it was breached, at risk


def test_R14_first_response_does_not_pause_while_waiting_on_the_customer():
    result = run(opened(at(10, 9)), status(at(10, 9, 10), "waiting_customer"))
    first = clock_of(result, FIRST_RESPONSE)
    assert first.state == RUNNING
    assert first.due_at == at(10, 10)  # 09:00 + 60 minutes, as if nothing happened
    resolution = clock_of(result, RESOLUTION)
    assert (resolution.state, resolution.taken, resolution.due_at) == (PAUSED, 10 * MINUTE, None)


# --- R15 only a response stops the reply clocks -------------------------------------------------------


def test_R15_status_changes_are_not_responses():
    result = run(
        opened(at(10, 9)),
        status(at(10, 9, 5), "open"),
        status(at(10, 9, 10), "waiting_department"),
        status(at(10, 9, 20), "open"),
    )
    first = clock_of(result, FIRST_RESPONSE)
    assert (first.state, first.due_at) == (RUNNING, at(10, 10))


# --- R16 next reply ---------------------------------------------------------------------------------


def test_R16_next_reply_starts_when_the_customer_writes_after_the_first_response():
    result = run(opened(at(10, 9)), response(at(10, 9, 30)), message(at(10, 10)))
    following = clock_of(result, NEXT_REPLY)
    assert (following.started_at, following.state, following.cycle) == (at(10, 10), RUNNING, 1)
    assert following.due_at == at(10, 12)  # 10:00 + 120 minutes
    assert following.warn_at == at(10, 11, 30)  # 10:00 + 90 minutes (75 %)
    assert result.response is following


def test_R16_more_messages_while_it_runs_do_not_restart_it():
    result = run(
        opened(at(10, 9)), response(at(10, 9, 30)), message(at(10, 10)), message(at(10, 11)), message(at(10, 16))
    )
    (following,) = [c for c in result.all if c.kind == NEXT_REPLY]
    assert (following.started_at, following.due_at) == (at(10, 10), at(10, 12))  # the oldest unanswered


def test_R16_a_message_before_the_first_response_starts_no_next_reply():
    result = run(opened(at(10, 9)), message(at(10, 9, 20)), message(at(10, 9, 40)))
    assert result.current(NEXT_REPLY) is None
    assert result.response is clock_of(result, FIRST_RESPONSE)


def test_R16_each_answered_message_is_a_new_cycle():
    result = run(
        opened(at(10, 9)),
        response(at(10, 9, 30)),
        message(at(10, 10)),
        response(at(10, 13)),
        message(at(11, 10)),
    )
    one, two = clock_of(result, NEXT_REPLY, 1), clock_of(result, NEXT_REPLY, 2)
    assert (one.state, one.stopped_by, one.taken, one.met) == (STOPPED, BY_RESPONSE, 3 * HOUR, False)
    assert one.due_at == at(10, 12)  # it was breached at 12:00
    assert (two.started_at, two.state, two.due_at) == (at(11, 10), RUNNING, at(11, 12))
    assert result.response is two


def test_R16_a_message_on_friday_evening_is_due_on_monday():
    result = run(opened(at(7, 9)), response(at(7, 10)), message(at(7, 18)))
    # Friday 18:00 is after closing: 120 minutes from Monday 09:00 → Monday 11:00.
    assert clock_of(result, NEXT_REPLY).due_at == at(10, 11)


# --- R18 resolution ---------------------------------------------------------------------------------


def test_R18_resolution_runs_from_the_opening_until_resolved():
    result = run(opened(at(10, 9)), response(at(10, 9, 30)), status(at(11, 11), "resolved"))
    resolution = clock_of(result, RESOLUTION)
    assert (resolution.started_at, resolution.stopped_at, resolution.stopped_by) == (
        at(10, 9),
        at(11, 11),
        BY_RESOLUTION,
    )
    assert resolution.taken == 10 * HOUR  # Monday 8 h + Tuesday 09–11
    assert resolution.met is False  # 480 minutes allowed
    assert resolution.due_at == at(10, 17)  # the 480th minute: Monday's closing (R6)
    assert result.live == []


def test_R18_closing_stops_resolution_too():
    result = run(opened(at(10, 9)), status(at(10, 12), "closed"))
    resolution = clock_of(result, RESOLUTION)
    assert (resolution.state, resolution.taken, resolution.met) == (STOPPED, 3 * HOUR, True)


def test_R18_without_a_target_a_clock_runs_but_gives_no_deadline():
    result = run(opened(at(10, 9)), targets=Targets(first_response=60))
    resolution = clock_of(result, RESOLUTION)
    assert (resolution.state, resolution.due_at, resolution.warn_at) == (RUNNING, None, None)
    assert resolution.left(CALENDAR, at(20, 9)) is None
    assert [c.kind for c in result.live] == [FIRST_RESPONSE]
    stopped = run(opened(at(10, 9)), status(at(10, 10), "resolved"), targets=Targets())
    assert clock_of(stopped, RESOLUTION).met is None


# --- R19 pauses -------------------------------------------------------------------------------------


def test_R19_waiting_on_the_customer_pauses_next_reply_and_resolution():
    history = [opened(at(10, 9)), response(at(10, 9, 30)), message(at(10, 10)), status(at(10, 11), "waiting_customer")]
    paused = run(*history)
    following, resolution = clock_of(paused, NEXT_REPLY), clock_of(paused, RESOLUTION)
    assert (following.state, following.taken, following.due_at, following.warn_at) == (PAUSED, HOUR, None, None)
    assert (resolution.state, resolution.taken, resolution.due_at, resolution.warn_at) == (
        PAUSED,
        2 * HOUR,
        None,
        None,
    )
    assert paused.live == []

    resumed = run(*history, status(at(11, 11), "open"))
    following, resolution = clock_of(resumed, NEXT_REPLY), clock_of(resumed, RESOLUTION)
    # Next reply: 1 h used, 1 h left from Tuesday 11:00 → 12:00; at risk at 90 min → 11:30.
    assert (following.state, following.due_at, following.warn_at) == (RUNNING, at(11, 12), at(11, 11, 30))
    # Resolution: 2 h used, 6 h left from Tuesday 11:00 → 17:00; at risk at 6 h → 15:00.
    assert (resolution.state, resolution.due_at, resolution.warn_at) == (RUNNING, at(11, 17), at(11, 15))
    assert resolution.used(CALENDAR, at(11, 12)) == 3 * HOUR


def test_R19_waiting_on_a_department_does_not_pause():
    result = run(
        opened(at(10, 9)), response(at(10, 9, 30)), message(at(10, 10)), status(at(10, 11), "waiting_department")
    )
    assert clock_of(result, NEXT_REPLY).due_at == at(10, 12)
    assert clock_of(result, RESOLUTION).due_at == at(10, 17)


def test_R19_waiting_on_a_department_after_waiting_on_the_customer_resumes():
    result = run(
        opened(at(10, 9)),
        status(at(10, 10), "waiting_customer"),
        status(at(10, 12), "waiting_department"),
    )
    # Resolution: 1 h before the pause, then from 12:00 the 7 h left → Tuesday 11:00.
    assert clock_of(result, RESOLUTION).due_at == at(11, 11)


def test_R19_a_message_while_waiting_starts_the_next_reply_paused():
    result = run(
        opened(at(10, 9)), response(at(10, 9, 30)), status(at(10, 9, 40), "waiting_customer"), message(at(10, 10))
    )
    following = clock_of(result, NEXT_REPLY)
    assert (following.started_at, following.state, following.taken, following.due_at) == (
        at(10, 10),
        PAUSED,
        ZERO,
        None,
    )
    resumed = run(
        opened(at(10, 9)),
        response(at(10, 9, 30)),
        status(at(10, 9, 40), "waiting_customer"),
        message(at(10, 10)),
        status(at(10, 11), "open"),
    )
    assert clock_of(resumed, NEXT_REPLY).due_at == at(10, 13)  # counted from 11:00


# --- R20 resolving stops the reply clocks ---------------------------------------------------------------


def test_R20_resolving_stops_a_running_next_reply_by_the_resolution():
    result = run(opened(at(10, 9)), response(at(10, 9, 30)), message(at(10, 10)), status(at(10, 10, 30), "resolved"))
    following = clock_of(result, NEXT_REPLY)
    assert (following.state, following.stopped_by, following.stopped_at, following.taken, following.met) == (
        STOPPED,
        BY_RESOLUTION,
        at(10, 10, 30),
        30 * MINUTE,
        True,
    )
    assert clock_of(result, FIRST_RESPONSE).stopped_by == BY_RESPONSE  # stopped before, by the reply


def test_R20_resolving_before_any_response_stops_the_first_response_by_the_resolution():
    result = run(opened(at(10, 9)), status(at(10, 9, 20), "closed"))
    first = clock_of(result, FIRST_RESPONSE)
    assert (first.stopped_by, first.taken, first.met) == (BY_RESOLUTION, 20 * MINUTE, True)
    assert [c.kind for c in result.stopped] == [FIRST_RESPONSE, RESOLUTION]


# --- R21 reopening ----------------------------------------------------------------------------------

REOPENED = [
    opened(at(10, 9)),
    response(at(10, 9, 30)),
    status(at(10, 12), "resolved"),  # resolution used 3 h
    message(at(12, 10)),  # Wednesday: the customer writes …
    status(at(12, 10), "open"),  # … and that reopens it
]


def test_R21_reopening_resumes_resolution_as_a_new_cycle_with_the_time_already_used():
    result = run(*REOPENED)
    one, two = clock_of(result, RESOLUTION, 1), clock_of(result, RESOLUTION, 2)
    assert (one.state, one.taken, one.met) == (STOPPED, 3 * HOUR, True)
    assert (two.started_at, two.state, two.carried, two.taken) == (at(12, 10), RUNNING, 3 * HOUR, 3 * HOUR)
    # 5 h of the 8 are left from Wednesday 10:00 → 15:00. The time resolved (Monday 12:00 to
    # Wednesday 10:00, 14 business hours) did not count.
    assert two.due_at == at(12, 15)
    # At risk at 6 h: 3 h left to it from 10:00 → 13:00.
    assert two.warn_at == at(12, 13)
    assert two.used(CALENDAR, at(12, 11)) == 4 * HOUR
    assert result.current(RESOLUTION) is two


def test_R21_the_customers_message_that_reopened_it_starts_a_next_reply_from_the_reopening():
    result = run(*REOPENED)
    following = clock_of(result, NEXT_REPLY)
    assert (following.started_at, following.due_at) == (at(12, 10), at(12, 12))
    assert result.response is following


def test_R21_a_message_while_resolved_is_owed_a_reply_from_the_reopening():
    result = run(
        opened(at(10, 9)),
        response(at(10, 9, 30)),
        status(at(10, 12), "resolved"),
        message(at(11, 10)),  # Tuesday, while resolved
        status(at(12, 10), "open"),  # reopened on Wednesday
    )
    assert clock_of(result, NEXT_REPLY).started_at == at(12, 10)


def test_R21_reopened_by_the_desk_without_a_message_starts_no_next_reply():
    result = run(opened(at(10, 9)), response(at(10, 9, 30)), status(at(10, 12), "resolved"), status(at(12, 10), "open"))
    assert result.current(NEXT_REPLY) is None
    assert clock_of(result, RESOLUTION, 2).due_at == at(12, 15)


def test_R21_a_reply_to_the_message_while_resolved_settles_it():
    result = run(
        opened(at(10, 9)),
        response(at(10, 9, 30)),
        status(at(10, 12), "resolved"),
        message(at(11, 10)),
        response(at(11, 11)),  # answered while still resolved
        status(at(12, 10), "open"),
    )
    assert result.current(NEXT_REPLY) is None


def test_R21_carried_time_past_the_target_is_breached_from_the_reopening():
    result = run(
        opened(at(10, 9)), status(at(11, 11), "resolved"), status(at(12, 10), "open")
    )  # 10 h used of 8 before the reopen
    two = clock_of(result, RESOLUTION, 2)
    assert (two.due_at, two.warn_at) == (at(12, 10), at(12, 10))
    assert two.left(CALENDAR, at(12, 11)) == -3 * HOUR  # 8 h − (10 h + 1 h)


def test_R21_a_second_resolution_records_the_time_of_both_cycles():
    result = run(*REOPENED, status(at(12, 11), "resolved"))
    two = clock_of(result, RESOLUTION, 2)
    assert (two.state, two.taken, two.met) == (STOPPED, 4 * HOUR, True)  # 3 h + 1 h


# --- R22 a target change mid-flight ---------------------------------------------------------------------


def test_R22_a_new_target_keeps_the_time_used_and_moves_the_deadline():
    history = [opened(at(10, 9)), response(at(10, 9, 30)), message(at(10, 10))]
    before = run(*history, targets=Targets(first_response=60, next_reply=120, resolution=480))
    after = run(*history, targets=Targets(first_response=60, next_reply=240, resolution=960))
    now = at(10, 11)
    for kind in (NEXT_REPLY, RESOLUTION):
        assert clock_of(before, kind).used(CALENDAR, now) == clock_of(after, kind).used(CALENDAR, now)
    assert clock_of(before, NEXT_REPLY).due_at == at(10, 12)
    assert clock_of(after, NEXT_REPLY).due_at == at(10, 14)  # 10:00 + 240 minutes
    assert clock_of(after, RESOLUTION).due_at == at(11, 17)  # 16 business hours from Monday 09:00


def test_R22_a_running_clock_whose_new_target_is_used_up_is_breached_at_once():
    history = [opened(at(10, 9))]
    now = at(10, 13)  # four business hours in
    shorter = run(*history, targets=Targets(first_response=120, resolution=180))
    first, resolution = clock_of(shorter, FIRST_RESPONSE), clock_of(shorter, RESOLUTION)
    assert first.due_at == at(10, 11) and first.due_at < now
    assert resolution.due_at == at(10, 12) and resolution.due_at < now
    assert first.left(CALENDAR, now) == -2 * HOUR
    assert first.state == RUNNING


def test_R22_a_shorter_target_after_a_pause_keeps_the_paused_time_out():
    history = [opened(at(10, 9)), status(at(10, 10), "waiting_customer"), status(at(11, 9), "open")]
    result = run(*history, targets=Targets(resolution=90))
    # 60 minutes used before the pause; the last 30 from Tuesday 09:00 → 09:30.
    assert clock_of(result, RESOLUTION).due_at == at(11, 9, 30)


# --- R23 deadlines -------------------------------------------------------------------------------------


def test_R23_a_running_clocks_deadline_is_the_instant_it_reaches_its_target():
    result = run(opened(at(7, 15)))  # Friday 15:00
    resolution = clock_of(result, RESOLUTION)
    # 2 h on Friday, then 6 h from Monday 09:00 → Monday 15:00.
    assert resolution.due_at == at(10, 15)
    assert resolution.used(CALENDAR, resolution.due_at) == 8 * HOUR
    assert resolution.left(CALENDAR, resolution.due_at) == ZERO


def test_R23_a_paused_clock_has_no_deadline_until_it_runs_again():
    result = run(opened(at(10, 9)), status(at(10, 9, 30), "waiting_customer"))
    resolution = clock_of(result, RESOLUTION)
    assert (resolution.state, resolution.due_at, resolution.warn_at) == (PAUSED, None, None)
    assert resolution.used(CALENDAR, at(20, 9)) == 30 * MINUTE  # paused: time does not move it
    assert resolution.left(CALENDAR, at(20, 9)) == 450 * MINUTE


def test_R23_a_clock_paused_after_its_breach_keeps_the_instant_it_was_breached():
    result = run(opened(at(10, 9)), status(at(11, 9, 30), "waiting_customer"))
    resolution = clock_of(result, RESOLUTION)
    # 8.5 h used when paused: the breach (Monday 17:00) is history, and no future deadline.
    assert (resolution.state, resolution.due_at) == (PAUSED, at(10, 17))
    assert resolution not in result.live


# --- R24 at risk and breached --------------------------------------------------------------------------


def test_R24_at_risk_from_the_warning_share_of_the_target():
    result = run(opened(at(10, 9)), targets=Targets(resolution=600))
    resolution = clock_of(result, RESOLUTION)
    # 75 % of 600 minutes = 450 = 7.5 h → Monday 16:30; the target (10 h) → Tuesday 11:00.
    assert (resolution.warn_at, resolution.due_at) == (at(10, 16, 30), at(11, 11))
    assert resolution.used(CALENDAR, resolution.warn_at) == 450 * MINUTE


def test_R24_the_warning_share_is_set_per_policy():
    result = run(opened(at(10, 9)), targets=Targets(resolution=480, warn_percent=50))
    assert clock_of(result, RESOLUTION).warn_at == at(10, 13)  # 50 % of 8 h = 4 h
    odd = run(opened(at(10, 9)), targets=Targets(first_response=7, warn_percent=33))
    # 33 % of 7 minutes = 138.6 s (to the microsecond) → 09:02:18.6.
    assert clock_of(odd, FIRST_RESPONSE).warn_at == at(10, 9, 2) + dt.timedelta(seconds=18.6)


def test_R24_time_left_goes_negative_once_breached():
    result = run(opened(at(10, 16)))
    first = clock_of(result, FIRST_RESPONSE)
    assert first.due_at == at(10, 17)
    assert first.left(CALENDAR, at(10, 16, 30)) == 30 * MINUTE
    assert first.left(CALENDAR, at(11, 10)) == -HOUR  # Monday 1 h + Tuesday 1 h used
    assert first.left(CALENDAR, at(10, 20)) == ZERO  # the evening does not count


# --- histories that are not whole --------------------------------------------------------------------


def test_R14_R18_a_history_without_its_opening_times_nothing():
    result = run(message(at(10, 9)), response(at(10, 10)), status(at(10, 11), "resolved"))
    assert result.all == []


def test_R20_an_inquiry_opened_as_resolved_has_stopped_clocks():
    result = compute([Fact(at(10, 9), CREATED, "resolved")], targets=TARGETS, calendar=CALENDAR)
    assert [(c.kind, c.state, c.taken) for c in result.all] == [
        (FIRST_RESPONSE, STOPPED, ZERO),
        (RESOLUTION, STOPPED, ZERO),
    ]


# --- properties ------------------------------------------------------------------------------------

ACTIVE = ["new", "open", "waiting_department", "waiting_customer"]
EVENTS = ["message", "response", "open", "waiting_department", "waiting_customer", "resolved", "closed"]
CALENDAR_MAKERS = [
    office,
    lambda: office("America/New_York", holidays=[dt.date(2031, 3, 12)]),
    lambda: BusinessCalendar.always_open("Europe/London"),
]
CALENDARS = [make() for make in CALENDAR_MAKERS]
#: Whole minutes from Monday 3 March; events at whole minutes, pause edges half a minute later.
ORIGIN = at(3)
_gaps = st.lists(st.tuples(st.integers(1, 36 * 60), st.sampled_from(EVENTS)), max_size=14)
_targets = st.builds(
    Targets,
    first_response=st.none() | st.integers(1, 3000),
    next_reply=st.none() | st.integers(1, 3000),
    resolution=st.none() | st.integers(1, 6000),
    warn_percent=st.integers(1, 99),
)


@st.composite
def histories(draw) -> list[tuple[dt.datetime, str]]:
    """An opening and events at distinct whole minutes after it: ``[(at, what), …]``."""
    when = ORIGIN + dt.timedelta(minutes=draw(st.integers(0, 10 * 24 * 60)))
    events = [(when, "created")]
    for gap, what in draw(_gaps):
        when += dt.timedelta(minutes=gap)
        events.append((when, what))
    return events


def to_facts(events) -> list[Fact]:
    facts = []
    for when, what in events:
        if what == "created":
            facts.append(Fact(when, CREATED, "new"))
        elif what == "message":
            facts.append(Fact(when, CUSTOMER_MESSAGE))
        elif what == "response":
            facts.append(Fact(when, RESPONSE))
        else:
            facts.append(Fact(when, STATUS, what))
    return facts


def with_pause(events, start: dt.datetime, end: dt.datetime):
    """The same history, waiting on the customer from ``start`` to ``end`` wherever it was active:
    every instant paused before still is, and those in between are too."""

    def status_at(moment):
        found = "new"
        for when, what in events:
            if when < moment and what not in ("message", "response"):
                found = "new" if what == "created" else what
        return found

    changed = []
    for when, what in events:
        if start < when < end and what in ACTIVE:
            what = "waiting_customer"
        changed.append((when, what))
    if status_at(start) in ACTIVE:
        changed.append((start, "waiting_customer"))
    if status_at(end) in ACTIVE and status_at(end) != "waiting_customer":
        changed.append((end, status_at(end)))
    return sorted(changed, key=lambda pair: pair[0])


def later_or_equal(new, old) -> bool:
    """``None`` (never reached) is later than any instant."""
    if old is None:
        return new is None
    return new is None or new >= old


@PROPERTIES
@given(histories(), st.data(), _targets, st.sampled_from(CALENDARS))
def test_R8_inserting_a_pause_never_makes_a_deadline_earlier(events, data, targets, calendar):
    first, last = events[0][0], events[-1][0] + dt.timedelta(days=2)
    minutes = int((last - first).total_seconds() // 60)
    a, b = sorted(data.draw(st.lists(st.integers(0, minutes), min_size=2, max_size=2)))
    half = dt.timedelta(seconds=30)
    start, end = first + dt.timedelta(minutes=a) + half, first + dt.timedelta(minutes=b) + half
    before = compute(to_facts(events), targets=targets, calendar=calendar)
    after = compute(to_facts(with_pause(events, start, end)), targets=targets, calendar=calendar)
    assert [(c.kind, c.cycle, c.started_at) for c in after.all] == [(c.kind, c.cycle, c.started_at) for c in before.all]
    for old, new in zip(before.all, after.all, strict=True):
        assert later_or_equal(new.due_at, old.due_at), (old, new)
        assert later_or_equal(new.warn_at, old.warn_at), (old, new)
        for moment in (start, end, last):  # (used is exact only from the clock's last start on)
            if moment >= old.segments[-1][0] and moment >= new.segments[-1][0]:
                assert new.used(calendar, moment) <= old.used(calendar, moment)
        if old.kind == FIRST_RESPONSE:  # it never pauses
            assert new == old


@PROPERTIES
@given(histories(), _targets, st.sampled_from(range(len(CALENDARS))), st.randoms(use_true_random=False))
def test_R19_recomputing_the_same_history_gives_the_same_clocks(events, targets, which, rnd):
    facts = to_facts(events)
    calendar = CALENDARS[which]  # its per-day cache already warm from earlier examples
    once = compute(facts, targets=targets, calendar=calendar)
    assert compute(list(facts), targets=targets, calendar=calendar) == once
    shuffled = list(facts)
    rnd.shuffle(shuffled)  # distinct instants: the order they are read in does not matter
    assert compute(shuffled, targets=targets, calendar=calendar) == once
    assert compute(iter(facts), targets=targets, calendar=CALENDAR_MAKERS[which]()) == once  # a cold calendar


@PROPERTIES
@given(histories(), _targets, st.sampled_from(CALENDARS))
def test_R23_a_running_clock_reaches_its_target_exactly_at_its_deadline(events, targets, calendar):
    result = compute(to_facts(events), targets=targets, calendar=calendar)
    for clock in result.all:
        if clock.state != RUNNING or clock.target is None or clock.carried >= clock.target:
            continue
        if clock.due_at >= clock.segments[-1][0]:  # reached in the running stretch
            assert clock.used(calendar, clock.due_at) == clock.target
            assert clock.left(calendar, clock.due_at) == ZERO
        share = dt.timedelta(microseconds=clock.target // MICROSECOND * targets.warn_percent // 100)
        if clock.carried < share and clock.warn_at >= clock.segments[-1][0]:  # (rounded down to the µs)
            assert clock.used(calendar, clock.warn_at) == share


@PROPERTIES
@given(histories(), _targets, st.sampled_from(CALENDARS))
def test_R31_a_recompute_of_running_clocks_only_gives_the_same_running_clocks(events, targets, calendar):
    facts = to_facts(events)
    whole = compute(facts, targets=targets, calendar=calendar)
    running = compute(facts, targets=targets, calendar=calendar, running_only=True)
    assert running.live == whole.live
    assert running.status == whole.status
    for full, lean in zip(whole.all, running.all, strict=True):
        if full.state == RUNNING:
            assert lean == full
        else:  # the same clock, without the deadlines a recompute does not write
            assert (lean.due_at, lean.warn_at) == (None, None)
            assert dataclasses.replace(lean, due_at=full.due_at, warn_at=full.warn_at) == full
