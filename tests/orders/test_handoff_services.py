"""handoff_create and handoff_set_state (done and cancelled are final)."""

from __future__ import annotations

import datetime as dt

import pytest

from fulfillment import clock
from fulfillment.errors import InvalidInput, TransitionNotAllowed
from orders import services
from orders.enums import HANDOFF_TRANSITIONS, Department, HandoffState, OrderEventType
from orders.models import Handoff

from ..factories import HandoffFactory, UserFactory
from .helpers import snapshot

NOW = dt.datetime(2031, 5, 6, 7, 8, tzinfo=dt.UTC)
TODAY = NOW.date()


def test_a_handoff_is_created_with_owner_due_date_and_event(rep, order, specialist):
    with clock.frozen(NOW):
        handoff = services.handoff_create(
            actor=rep,
            order=order,
            department=Department.BILLING,
            summary=" Card charged twice ",
            owner=specialist,
            due_date=TODAY,
        )

    order.refresh_from_db()
    assert (handoff.state, handoff.summary, handoff.owner, handoff.due_date) == (
        HandoffState.OPEN,
        "Card charged twice",
        specialist,
        TODAY,
    )
    assert (handoff.created_by_name, handoff.created_at, order.version) == ("rep1", NOW, 2)
    event = order.events.get(type=OrderEventType.HANDOFF_CREATED)
    assert event.details == {
        "handoff": handoff.pk,
        "department": Department.BILLING,
        "summary": "Card charged twice",
        "owner": "specialist1",
        "due_date": TODAY.isoformat(),
    }
    assert event.actor_user == rep


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"department": "marketing"}, "department"),
        ({"summary": " "}, "summary"),
        ({"summary": "s" * 501}, "summary"),
        ({"due_date": TODAY - dt.timedelta(days=1)}, "due_date"),
        ({"owner": "inactive"}, "owner"),
    ],
)
def test_a_bad_handoff_is_refused_and_changes_nothing(rep, order, data, field):
    if data.get("owner") == "inactive":
        data = {"owner": UserFactory(username="left", is_active=False)}
    values = {"department": Department.WAREHOUSE, "summary": "Check shelf", **data}
    before = snapshot(order)
    with clock.frozen(NOW), pytest.raises(InvalidInput) as refused:
        services.handoff_create(actor=rep, order=order, **values)
    assert field in refused.value.field_errors
    assert snapshot(order) == before


#: How to bring a fresh (open) hand-off to each state through the service.
PATH = {
    HandoffState.OPEN: [],
    HandoffState.IN_PROGRESS: [HandoffState.IN_PROGRESS],
    HandoffState.DONE: [HandoffState.DONE],
    HandoffState.CANCELLED: [HandoffState.CANCELLED],
}
PAIRS = [(state, target) for state in HandoffState.values for target in HandoffState.values]


@pytest.mark.parametrize(("state", "target"), PAIRS, ids=[f"{s}-{t}" for s, t in PAIRS])
def test_every_handoff_state_change_follows_its_table(rep, state, target):
    handoff = HandoffFactory()
    for step in PATH[state]:
        services.handoff_set_state(actor=rep, handoff=handoff, state=step)
    handoff.refresh_from_db()
    before = snapshot(handoff.order)
    row_before = Handoff.objects.values().get(pk=handoff.pk)

    if target in HANDOFF_TRANSITIONS[state]:
        with clock.frozen(NOW):
            services.handoff_set_state(actor=rep, handoff=handoff, state=target, note="Done by phone")
        handoff.refresh_from_db()
        assert handoff.state == target
        assert handoff.completed_at == (NOW if target == HandoffState.DONE else None)
        event = handoff.order.events.filter(type=OrderEventType.HANDOFF_CHANGED).latest("id")
        assert event.details == {
            "handoff": handoff.pk,
            "department": handoff.department,
            "old": state,
            "new": target,
            "note": "Done by phone",
        }
        assert event.actor_user == rep
    else:
        with pytest.raises(TransitionNotAllowed) as refused:
            services.handoff_set_state(actor=rep, handoff=handoff, state=target)
        assert refused.value.allowed == sorted(HANDOFF_TRANSITIONS[state])
        assert snapshot(handoff.order) == before
        assert Handoff.objects.values().get(pk=handoff.pk) == row_before


@pytest.mark.parametrize("final", [HandoffState.DONE, HandoffState.CANCELLED])
def test_done_and_cancelled_are_final(final):
    assert HANDOFF_TRANSITIONS[final] == frozenset()
