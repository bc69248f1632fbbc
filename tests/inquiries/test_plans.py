"""Resolution plans: steps with owners and due dates, and the rule that open steps block resolving."""

from __future__ import annotations

import datetime as dt

import pytest

from fulfillment import clock
from fulfillment.errors import InvalidInput
from inquiries import services
from inquiries.enums import EventType, InquiryStatus
from inquiries.services.plans import MAX_STEPS

from ..factories import UserFactory
from .conftest import NOW
from .helpers import events_of, fresh, last_event, snapshot

S = InquiryStatus
TODAY = NOW.date()
DAY = dt.timedelta(days=1)


def add(actor, inquiry, title="Ask the warehouse", **kwargs):
    return services.plan_step_add(actor=actor, inquiry=inquiry, title=title, **kwargs)


def test_steps_are_numbered_owned_and_counted(rep, senior, inquiry, frozen_now):
    first = add(rep, inquiry, due_date=TODAY + 3 * DAY)
    second = add(rep, inquiry, title="Call the courier", owner=senior, due_date=TODAY + DAY)
    third = add(rep, inquiry, title="No date")
    assert [(s.position, s.owner) for s in (first, second, third)] == [(1, rep), (2, senior), (3, rep)]
    row = fresh(inquiry)
    assert (row.plan_steps_total, row.plan_steps_done, row.plan_open_steps) == (3, 0, 3)
    assert row.next_step_due == TODAY + DAY
    event = last_event(row)
    assert (event.type, event.details["title"], event.details["owner"], event.details["due"]) == (
        EventType.PLAN_STEP_ADDED,
        "No date",
        "rep1",
        "",
    )


def test_ticking_off_and_reopening_a_step_keeps_the_counts(rep, inquiry, frozen_now):
    first = add(rep, inquiry, due_date=TODAY + DAY)
    add(rep, inquiry, title="Later", due_date=TODAY + 5 * DAY)
    step = services.plan_step_set_done(actor=rep, step=first)
    assert (step.done_at, step.done_by_name, step.is_done) == (NOW, "rep1", True)
    row = fresh(inquiry)
    assert (row.plan_steps_done, row.next_step_due) == (1, TODAY + 5 * DAY)
    assert last_event(row).type == EventType.PLAN_STEP_DONE
    services.plan_step_set_done(actor=rep, step=first, done=False)
    row = fresh(inquiry)
    assert (row.plan_steps_done, row.next_step_due) == (0, TODAY + DAY)
    assert last_event(row).type == EventType.PLAN_STEP_REOPENED


def test_ticking_a_done_step_again_is_refused(rep, inquiry):
    step = add(rep, inquiry)
    services.plan_step_set_done(actor=rep, step=step)
    before = snapshot(inquiry)
    with pytest.raises(InvalidInput):
        services.plan_step_set_done(actor=rep, step=step)
    assert snapshot(inquiry) == before


def test_reopening_an_open_step_is_refused(rep, inquiry):
    step = add(rep, inquiry)
    before = snapshot(inquiry)
    with pytest.raises(InvalidInput):
        services.plan_step_set_done(actor=rep, step=step, done=False)
    assert snapshot(inquiry) == before


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"title": " "}, "title"),
        ({"due_date": TODAY - DAY}, "due_date"),
        ({"owner": "inactive"}, "owner"),
        ({"owner": "no tier"}, "owner"),
    ],
)
def test_a_bad_step_is_refused(rep, inquiry, kwargs, field):
    owners = {"inactive": {"is_active": False}, "no tier": {"tier": None}}
    if "owner" in kwargs:
        kwargs = {"owner": UserFactory(**owners[kwargs["owner"]])}
    before = snapshot(inquiry)
    with clock.frozen(NOW), pytest.raises(InvalidInput) as refused:
        add(rep, inquiry, **kwargs)
    assert field in refused.value.field_errors
    assert snapshot(inquiry) == before


def test_a_plan_has_at_most_fifty_steps(rep, inquiry):
    for n in range(MAX_STEPS):
        add(rep, inquiry, title=f"Step {n}")
    before = snapshot(inquiry)
    with pytest.raises(InvalidInput):
        add(rep, inquiry, title="One too many")
    assert snapshot(inquiry) == before


# --- open steps and resolving ------------------------------------------------------------------------


@pytest.mark.parametrize("target", [S.RESOLVED, S.CLOSED])
@pytest.mark.parametrize(
    ("override", "reason", "field"),
    [(False, "", "status"), (False, "Customer is happy", "status"), (True, "", "reason"), (True, "  ", "reason")],
)
def test_open_steps_block_resolving_without_an_override_and_a_reason(rep, inquiry, target, override, reason, field):
    add(rep, inquiry)
    before = snapshot(inquiry)
    with pytest.raises(InvalidInput) as refused:
        services.inquiry_set_status(
            actor=rep, inquiry=inquiry, status=target, override_open_steps=override, reason=reason
        )
    assert field in refused.value.field_errors
    assert snapshot(inquiry) == before


@pytest.mark.parametrize("target", [S.RESOLVED, S.CLOSED])
def test_an_override_with_a_reason_resolves_and_records_the_reason(rep, inquiry, target):
    add(rep, inquiry)
    services.inquiry_set_status(
        actor=rep, inquiry=inquiry, status=target, override_open_steps=True, reason="Customer withdrew the claim"
    )
    row = fresh(inquiry)
    assert (row.status, row.due_at, row.plan_open_steps) == (target, None, 1)
    assert events_of(row, EventType.STATUS_CHANGED)[-1].details["reason"] == "Customer withdrew the claim"


def test_a_finished_plan_needs_no_override(rep, inquiry):
    services.plan_step_set_done(actor=rep, step=add(rep, inquiry))
    services.inquiry_set_status(actor=rep, inquiry=inquiry, status=S.RESOLVED)
    assert fresh(inquiry).status == S.RESOLVED


def test_open_steps_do_not_block_other_moves(rep, inquiry):
    add(rep, inquiry)
    services.inquiry_set_status(actor=rep, inquiry=inquiry, status=S.WAITING_DEPARTMENT)
    assert fresh(inquiry).status == S.WAITING_DEPARTMENT
