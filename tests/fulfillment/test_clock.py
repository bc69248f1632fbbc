"""The one clock: frozen() moves now() and today(), and always puts time back."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fulfillment import clock

AT = dt.datetime(2031, 5, 6, 23, 30, tzinfo=dt.UTC)


def test_frozen_moves_now_and_today_and_restores_them():
    before = clock.now()
    with clock.frozen(AT):
        assert clock.now() == AT
        assert clock.today() == dt.date(2031, 5, 6)
    after = clock.now()
    assert before <= after <= timezone.now()
    assert abs(after - timezone.now()) < dt.timedelta(seconds=5)


def test_frozen_restores_time_after_an_exception():
    with pytest.raises(ZeroDivisionError), clock.frozen(AT):
        1 / 0  # noqa: B018
    assert clock.now() != AT


def test_frozen_blocks_nest():
    inner = AT + dt.timedelta(days=1)
    with clock.frozen(AT):
        with clock.frozen(inner):
            assert clock.now() == inner
        assert clock.now() == AT


def test_frozen_refuses_a_naive_datetime():
    with pytest.raises(ValueError):  # noqa: SIM117
        with clock.frozen(dt.datetime(2031, 5, 6)):
            pass


def test_today_is_in_the_desks_time_zone(settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    with clock.frozen(AT):  # 23:30 UTC is 05:00 the next day in Kolkata
        assert clock.today() == dt.date(2031, 5, 7)


@pytest.mark.django_db
def test_model_defaults_follow_the_clock():
    from ..factories import CustomerFactory

    with clock.frozen(AT):
        customer = CustomerFactory()
    assert customer.created_at == customer.updated_at == AT
