"""Every (from, to) status pair against the ONE inquiry transition table, through the service."""

from __future__ import annotations

import pytest

from fulfillment import clock
from fulfillment.actors import ActorKind
from fulfillment.errors import Conflict, TransitionNotAllowed
from inquiries import services
from inquiries.enums import DONE, TRANSITIONS, EventType, InquiryStatus, allowed_targets
from inquiries.models import Inquiry

from .conftest import NOW
from .factories import InquiryFactory
from .helpers import events_of, fresh, snapshot

S = InquiryStatus
PAIRS = [(old, new) for old in S.values for new in S.values]


def test_the_table_covers_every_status_and_never_stays_put():
    assert set(TRANSITIONS) == set(S.values)
    for status, targets in TRANSITIONS.items():
        assert status not in targets
        assert targets <= set(S.values)
    assert all(S.OPEN in TRANSITIONS[status] for status in DONE)  # a done inquiry can be reopened


@pytest.mark.parametrize(("old", "new"), PAIRS, ids=[f"{o}-{n}" for o, n in PAIRS])
def test_every_status_pair_follows_the_table(rep, old, new):
    inquiry = InquiryFactory(status=old)
    before = snapshot(inquiry)

    with clock.frozen(NOW):
        if new in allowed_targets(old):
            services.inquiry_set_status(actor=rep, inquiry=inquiry, status=new, reason="Because")
        else:
            with pytest.raises(TransitionNotAllowed) as refused:
                services.inquiry_set_status(actor=rep, inquiry=inquiry, status=new, reason="Because")

    if new not in allowed_targets(old):
        assert refused.value.current == old
        assert refused.value.requested == new
        assert refused.value.allowed == sorted(TRANSITIONS[old])
        for move in TRANSITIONS[old]:  # the message names every allowed move, by its label
            assert str(S(move).label) in refused.value.message
        assert snapshot(inquiry) == before
        return

    row = fresh(inquiry)
    assert row.status == new
    assert row.version == before["inquiry"]["version"] + 1
    assert row.updated_at == NOW
    # the status event; resolving also schedules a follow-up call, reopening cancels it (their own events)
    (event,) = [e for e in events_of(inquiry)[len(before["events"]) :] if not e.type.startswith("follow_up")]
    assert event.type == EventType.STATUS_CHANGED
    assert event.details == {"old": old, "new": new, "reason": "Because"}
    assert (event.actor_kind, event.actor_user, event.actor_name) == (ActorKind.USER, rep, rep.username)
    if new in DONE:
        assert row.due_at is None
    else:
        assert row.due_at is not None


@pytest.mark.parametrize("done", DONE)
def test_reopening_a_done_inquiry_counts_and_clears_the_done_times(rep, done):
    inquiry = InquiryFactory(status=done)
    assert inquiry.resolved_at is not None
    with clock.frozen(NOW):
        services.inquiry_set_status(actor=rep, inquiry=inquiry, status=S.OPEN)
    row = fresh(inquiry)
    assert (row.reopen_count, row.resolved_at, row.closed_at) == (1, None, None)
    assert row.resolve_due_at > NOW  # a new resolution deadline from now
    assert row.due_at is not None


def test_resolve_then_close_keeps_the_resolution_time(rep):
    inquiry = InquiryFactory(status=S.RESOLVED)
    resolved_at = inquiry.resolved_at
    with clock.frozen(NOW):
        services.inquiry_set_status(actor=rep, inquiry=inquiry, status=S.CLOSED)
    row = fresh(inquiry)
    assert (row.resolved_at, row.closed_at, row.reopen_count) == (resolved_at, NOW, 0)


def test_closing_straight_from_new_sets_both_times(rep):
    inquiry = InquiryFactory()
    with clock.frozen(NOW):
        services.inquiry_set_status(actor=rep, inquiry=inquiry, status=S.CLOSED)
    row = fresh(inquiry)
    assert (row.resolved_at, row.closed_at, row.due_at) == (NOW, NOW, None)


def test_a_stale_version_is_refused_and_writes_nothing(rep):
    inquiry = InquiryFactory()
    before = snapshot(inquiry)
    with pytest.raises(Conflict):
        services.inquiry_set_status(actor=rep, inquiry=inquiry, status=S.OPEN, expected_version=inquiry.version - 1)
    assert snapshot(inquiry) == before


def test_the_model_offers_exactly_the_allowed_moves():
    for status in S.values:
        assert set(Inquiry(status=status).allowed_statuses) == TRANSITIONS[status]
