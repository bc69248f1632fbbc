"""Late and at-risk: the row's properties, the QuerySet filters and the list filter agree."""

from __future__ import annotations

import datetime as dt

import pytest

from fulfillment import clock
from orders.enums import OrderStatus as S
from orders.filters import OrderFilter
from orders.models import Order

from ..factories import OrderFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2031, 5, 6, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()

# (status, ship_by offset, deliver_by offset) → (late, at risk), with FD_AT_RISK_DAYS = 1
CASES = [
    (S.PLACED, None, None, False, False),
    (S.PLACED, -1, None, True, False),
    (S.PLACED, 0, None, False, True),
    (S.PLACED, 1, None, False, True),
    (S.PLACED, 2, None, False, False),
    (S.PLACED, None, -1, True, False),
    (S.PLACED, None, 0, False, True),
    (S.PLACED, None, 1, False, True),
    (S.PLACED, None, 2, False, False),
    (S.PLACED, -1, 5, True, False),
    (S.PLACED, 0, 5, False, True),
    (S.PLACED, 2, 2, False, False),
    (S.ON_HOLD, -1, None, True, False),
    (S.PACKED, 1, 3, False, True),
    (S.SHIPPED, -1, None, False, False),
    (S.SHIPPED, -1, 0, False, True),
    (S.SHIPPED, -2, -1, True, False),
    (S.SHIPPED, 0, 1, False, True),
    (S.DELIVERED, -2, -1, False, False),
    (S.CANCELLED, -1, -1, False, False),
    (S.RETURNED, -2, -1, False, False),
]


def _day(offset):
    return None if offset is None else TODAY + dt.timedelta(days=offset)


def _promise(value: str) -> set[int]:
    order_filter = OrderFilter({"promise": value}, queryset=Order.objects.all())
    assert order_filter.is_valid()
    return set(order_filter.qs.values_list("pk", flat=True))


@pytest.mark.parametrize(("status", "ship", "deliver", "late", "at_risk"), CASES)
def test_properties_querysets_and_filters_agree(settings, status, ship, deliver, late, at_risk):
    settings.FD_AT_RISK_DAYS = 1
    order = OrderFactory(status=status, ship_by=_day(ship), deliver_by=_day(deliver))

    with clock.frozen(NOW):
        order.refresh_from_db()
        assert (order.is_late, order.is_at_risk) == (late, at_risk)
        assert Order.objects.late(TODAY).filter(pk=order.pk).exists() == late
        assert Order.objects.at_risk(TODAY, 1).filter(pk=order.pk).exists() == at_risk
        assert (order.pk in _promise("late")) == late
        assert (order.pk in _promise("at_risk")) == at_risk
        assert (order.pk in _promise("late_or_at_risk")) == (late or at_risk)


def test_an_order_becomes_late_at_midnight_not_before(settings):
    settings.FD_AT_RISK_DAYS = 1
    order = OrderFactory(ship_by=TODAY)
    last_second = dt.datetime.combine(TODAY, dt.time(23, 59, 59), tzinfo=dt.UTC)
    midnight = last_second + dt.timedelta(seconds=1)

    with clock.frozen(last_second):
        assert (order.is_late, order.is_at_risk, _promise("late")) == (False, True, set())
    with clock.frozen(midnight):
        assert (order.is_late, order.is_at_risk, _promise("late"), _promise("at_risk")) == (
            True,
            False,
            {order.pk},
            set(),
        )


def test_today_is_the_desks_day_not_utcs(settings):
    settings.TIME_ZONE = "Asia/Kolkata"  # UTC+05:30
    order = OrderFactory(ship_by=TODAY)
    evening_utc = dt.datetime.combine(TODAY, dt.time(19, 0), tzinfo=dt.UTC)  # 00:30 tomorrow in Kolkata

    with clock.frozen(evening_utc):
        assert clock.today() == TODAY + dt.timedelta(days=1)
        assert order.is_late
        assert _promise("late") == {order.pk}


def test_a_wider_at_risk_window_is_honoured_by_both(settings):
    settings.FD_AT_RISK_DAYS = 3
    order = OrderFactory(ship_by=TODAY + dt.timedelta(days=3))
    with clock.frozen(NOW):
        assert order.is_at_risk
        assert _promise("at_risk") == {order.pk}
