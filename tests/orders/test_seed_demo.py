"""seed_demo: refused under production settings; a second run adds nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from fulfillment.models import StaffSpecialty
from orders.models import Customer, Order

from .helpers import world

pytestmark = pytest.mark.django_db

FORCE = "--i-know-this-is-not-production"


def _counts() -> dict:
    return {
        "users": get_user_model().objects.count(),
        "specialties": StaffSpecialty.objects.count(),
        **{name: len(rows) for name, rows in world().items()},
    }


def test_it_is_refused_under_production_settings(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refused under production settings"):
        call_command("seed_demo", "--customers", "3")
    assert not get_user_model().objects.exists()
    assert not Customer.objects.exists()


def test_it_runs_under_production_settings_when_told_it_is_not_production(settings):
    settings.DEBUG = False
    call_command("seed_demo", "--customers", "3", FORCE)
    assert get_user_model().objects.filter(username__in=["rep1", "senior1", "admin"]).count() == 3
    assert Customer.objects.count() == 3
    assert Order.objects.exists()


def test_running_it_twice_creates_nothing_the_second_time(settings):
    settings.DEBUG = True
    call_command("seed_demo", "--customers", "3")
    first = _counts()
    first_rows = world()

    call_command("seed_demo", "--customers", "3")

    assert _counts() == first
    assert world() == first_rows  # nothing added, nothing changed
    assert first["users"] == 6
    teams = {user.username: user.team.name for user in get_user_model().objects.filter(team__isnull=False)}
    assert teams == {
        "rep1": "Chennai desk",
        "specialist1": "Chennai desk",
        "supervisor1": "Chennai desk",
        "rep2": "Manila and Dhaka desk",
        "senior1": "Manila and Dhaka desk",
    }
    assert first["Customer"] == 3
    assert first["Order"] >= 3


def test_more_customers_on_a_later_run_adds_only_the_new_ones(settings):
    settings.DEBUG = True
    call_command("seed_demo", "--customers", "2")
    customers_before = set(Customer.objects.values_list("pk", flat=True))
    call_command("seed_demo", "--customers", "3")
    assert len(set(Customer.objects.values_list("pk", flat=True)) - customers_before) == 1


@pytest.mark.parametrize("count", ["-1", "10001"])
def test_an_absurd_customer_count_is_refused(settings, count):
    settings.DEBUG = True
    with pytest.raises(CommandError):
        call_command("seed_demo", "--customers", count)
    assert not get_user_model().objects.exists()
