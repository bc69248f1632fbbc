"""Every (status, action) pair against the ONE transition table, through the services."""

from __future__ import annotations

import datetime as dt

import pytest

from fulfillment import clock
from fulfillment.actors import ActorKind
from fulfillment.errors import Conflict, TransitionNotAllowed
from orders import services
from orders.enums import ACTION_TARGET, HOLDABLE, TRANSITIONS, OrderAction, OrderEventType, OrderStatus, allowed_actions
from orders.models import Order, OrderEvent

from ..factories import OrderFactory
from .helpers import snapshot

LATER = dt.datetime(2031, 3, 4, 10, 30, tzinfo=dt.UTC)

#: action → the service call that performs it.
SERVICES = {
    OrderAction.CONFIRM: lambda actor, order, **kw: services.order_confirm(actor=actor, order=order, **kw),
    OrderAction.PROCESS: lambda actor, order, **kw: services.order_start_processing(actor=actor, order=order, **kw),
    OrderAction.PACK: lambda actor, order, **kw: services.order_pack(actor=actor, order=order, **kw),
    OrderAction.SHIP: lambda actor, order, **kw: services.order_ship(
        actor=actor, order=order, carrier="DHL", tracking_number="TRK-1", **kw
    ),
    OrderAction.DELIVER: lambda actor, order, **kw: services.order_deliver(actor=actor, order=order, **kw),
    OrderAction.HOLD: lambda actor, order, **kw: services.order_hold(actor=actor, order=order, reason="Why", **kw),
    OrderAction.RELEASE: lambda actor, order, **kw: services.order_release(actor=actor, order=order, **kw),
    OrderAction.CANCEL: lambda actor, order, **kw: services.order_cancel(actor=actor, order=order, reason="Why", **kw),
    OrderAction.RETURN: lambda actor, order, **kw: services.order_mark_returned(
        actor=actor, order=order, reason="Why", **kw
    ),
}
REASONED = {OrderAction.HOLD, OrderAction.CANCEL, OrderAction.RETURN}

#: In the matrix an on-hold order was held from *placed*; release targets are tested separately.
MATRIX_HELD_FROM = OrderStatus.PLACED
PAIRS = [(status, action) for status in OrderStatus.values for action in OrderAction.values]


def expected_target(status: str, action: str, held_from: str = MATRIX_HELD_FROM) -> str | None:
    """What the table says ``action`` does to an order in ``status`` (None: refused)."""
    if action == OrderAction.RELEASE:
        return held_from if status == OrderStatus.ON_HOLD else None
    target = ACTION_TARGET[action]
    return target if target in TRANSITIONS[status] else None


def test_the_services_cover_every_action_and_the_table_every_status():
    assert set(SERVICES) == set(OrderAction.values) == set(ACTION_TARGET)
    assert set(TRANSITIONS) == set(OrderStatus.values)
    reachable = {target for targets in TRANSITIONS.values() for target in targets}
    assert reachable <= set(ACTION_TARGET.values()) | set(TRANSITIONS[OrderStatus.ON_HOLD])


@pytest.mark.parametrize(("status", "action"), PAIRS, ids=[f"{s}-{a}" for s, a in PAIRS])
def test_every_status_action_pair_follows_the_table(rep, status, action):
    order = OrderFactory(status=status, held_from=MATRIX_HELD_FROM)
    target = expected_target(status, action)
    before = snapshot(order)

    with clock.frozen(LATER):
        if target is None:
            with pytest.raises(TransitionNotAllowed) as refused:
                SERVICES[action](rep, order)
        else:
            SERVICES[action](rep, order)

    order.refresh_from_db()
    new_events = OrderEvent.objects.filter(order=order).exclude(pk__in=before["events"])
    if target is None:
        allowed = sorted(TRANSITIONS[status])
        assert refused.value.allowed == allowed
        assert refused.value.current == status
        for move in allowed:  # the message names every allowed move, by its label
            assert str(OrderStatus(move).label) in refused.value.message
        assert snapshot(order) == before  # status, version, updated_at, rows: all as they were
        assert not new_events.exists()
    else:
        assert order.status == target
        assert order.version == before["order"]["version"] + 1
        assert order.updated_at == LATER
        changes = new_events.filter(type=OrderEventType.STATUS_CHANGED)
        assert changes.count() == 1
        event = changes.get()
        assert event.details["old"] == status
        assert event.details["new"] == target
        assert event.details["reason"] == ("Why" if action in REASONED else "")
        assert (event.actor_kind, event.actor_user, event.actor_name) == (ActorKind.USER, rep, "rep1")
        assert event.created_at == LATER


@pytest.mark.parametrize("status", OrderStatus.values)
def test_the_ui_offers_exactly_the_actions_the_services_accept(status):
    offered = set(allowed_actions(status, MATRIX_HELD_FROM if status == OrderStatus.ON_HOLD else None))
    accepted = {action for action in OrderAction.values if expected_target(status, action) is not None}
    assert offered == accepted


HELD_FROM = sorted(HOLDABLE)


@pytest.mark.parametrize("held_from", HELD_FROM)
def test_hold_then_release_returns_to_the_status_it_was_held_from(rep, held_from):
    order = OrderFactory(status=held_from)
    held = services.order_hold(actor=rep, order=order, reason="Address to check")
    assert (held.status, held.held_from_status) == (OrderStatus.ON_HOLD, held_from)
    assert Order.objects.get(pk=order.pk).allowed_actions.count(OrderAction.RELEASE) == 1

    released = services.order_release(actor=rep, order=order)

    released.refresh_from_db()
    assert released.status == held_from
    assert released.held_from_status == ""
    hold_event, release_event = OrderEvent.objects.filter(order=order, type=OrderEventType.STATUS_CHANGED).order_by(
        "-id"
    )[:2][::-1]
    assert (hold_event.details["old"], hold_event.details["new"]) == (held_from, OrderStatus.ON_HOLD)
    assert hold_event.details["reason"] == "Address to check"
    assert (release_event.details["old"], release_event.details["new"]) == (OrderStatus.ON_HOLD, held_from)


@pytest.mark.parametrize("held_from", HELD_FROM)
def test_a_held_order_can_be_cancelled(rep, held_from):
    order = OrderFactory(status=OrderStatus.ON_HOLD, held_from=held_from)
    services.order_cancel(actor=rep, order=order, reason="Customer gave up")
    order.refresh_from_db()
    assert (order.status, order.held_from_status) == (OrderStatus.CANCELLED, "")


@pytest.mark.parametrize("action", [OrderAction.PROCESS, OrderAction.PACK])
def test_leaving_hold_goes_only_back_to_where_it_was_held_or_to_cancelled(rep, action):
    order = OrderFactory(status=OrderStatus.ON_HOLD, held_from=OrderStatus.PLACED)
    with pytest.raises(TransitionNotAllowed):
        SERVICES[action](rep, order)


@pytest.mark.parametrize("action", OrderAction.values)
def test_a_stale_version_is_a_conflict_and_changes_nothing(rep, action):
    status = {
        OrderAction.PROCESS: OrderStatus.CONFIRMED,
        OrderAction.PACK: OrderStatus.PROCESSING,
        OrderAction.SHIP: OrderStatus.PACKED,
        OrderAction.DELIVER: OrderStatus.SHIPPED,
        OrderAction.RELEASE: OrderStatus.ON_HOLD,
        OrderAction.RETURN: OrderStatus.DELIVERED,
    }.get(action, OrderStatus.PLACED)
    order = OrderFactory(status=status)
    before = snapshot(order)

    with pytest.raises(Conflict):
        SERVICES[action](rep, order, expected_version=order.version - 1)

    assert snapshot(order) == before
    SERVICES[action](rep, order, expected_version=order.version)  # the current version goes through
