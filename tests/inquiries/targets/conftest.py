"""Fixtures and helpers for the service-target tests (docs/service-targets.md, rules R1–R32).

Dates: March 2031. Monday 3rd … Friday 7th, Saturday 8th, Sunday 9th (New York moves its clocks
forward at 07:00 UTC that night), Monday 10th … Friday 14th. The default calendar "Standard
hours" is Monday to Friday 09:00–17:00 in the desk's time zone (UTC in tests).
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, settings

from fulfillment import clock
from inquiries.models import BusinessCalendar, Holiday, OpeningHours, PolicyRule, PolicyTarget, ServicePolicy
from inquiries.services import targets as target_service
from inquiries.targets import businesstime

UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)

#: Hypothesis: enough examples to find an edge, fast enough for every run; no example database
#: on disk (the tests must not leave files in the work tree).
settings.register_profile(
    "service-targets",
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
PROPERTIES = settings.get_profile("service-targets")

#: Monday to Friday, 09:00–17:00.
OFFICE_HOURS = [(day, dt.time(9), dt.time(17)) for day in range(5)]


def at(day: int, hour: int = 0, minute: int = 0, *, month: int = 3, year: int = 2031) -> dt.datetime:
    """An instant in UTC: ``at(10, 9)`` is Monday 10 March 2031, 09:00 UTC."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


def office(time_zone_name: str = "UTC", holidays=()) -> businesstime.BusinessCalendar:
    """The arithmetic of a Monday-to-Friday 09:00–17:00 calendar."""
    return businesstime.BusinessCalendar(time_zone_name=time_zone_name, hours=OFFICE_HOURS, holidays=holidays)


@pytest.fixture(autouse=True)
def _no_cached_calendars():
    """The service caches each calendar's arithmetic by (id, version). Rolled-back tests reuse
    ids on SQLite, so every test starts (and ends) with an empty cache."""
    target_service._calendars.clear()
    yield
    target_service._calendars.clear()


@pytest.fixture
def default_policy(db) -> ServicePolicy:
    return ServicePolicy.objects.select_related("calendar").get(is_default=True)


@pytest.fixture
def standard_hours(default_policy) -> BusinessCalendar:
    return default_policy.calendar


def make_calendar(name: str, *, time_zone: str = "UTC", hours=OFFICE_HOURS, holidays=()) -> BusinessCalendar:
    calendar = BusinessCalendar.objects.create(name=name, team=name, time_zone=time_zone)
    OpeningHours.objects.bulk_create(
        OpeningHours(calendar=calendar, weekday=day, opens=opens, closes=closes) for day, opens, closes in hours
    )
    Holiday.objects.bulk_create(Holiday(calendar=calendar, date=day) for day in holidays)
    return calendar


def make_policy(
    name: str,
    *,
    calendar: BusinessCalendar,
    targets: dict,
    warn_percent: int = 75,
) -> ServicePolicy:
    """``targets``: ``{priority: (first response, next reply, resolution)}`` in business
    minutes, or ``{(priority, channel): (…)}`` for a row that holds for one channel only."""
    policy = ServicePolicy.objects.create(name=name, calendar=calendar, warn_percent=warn_percent)
    for key, (first, following, resolution) in targets.items():
        priority, channel = key if isinstance(key, tuple) else (key, "")
        PolicyTarget.objects.create(
            policy=policy,
            priority=priority,
            channel=channel,
            first_response_minutes=first,
            next_reply_minutes=following,
            resolution_minutes=resolution,
        )
    return policy


def make_rule(position: int, policy: ServicePolicy, **conditions) -> PolicyRule:
    return PolicyRule.objects.create(position=position, name=f"rule {position}", policy=policy, **conditions)


class Desk:
    """Runs a service at a given instant: ``desk.at(at(10, 9), services.reply_send, …)``."""

    def at(self, when: dt.datetime, service, /, **kwargs):
        with clock.frozen(when):
            return service(**kwargs)


@pytest.fixture
def desk() -> Desk:
    return Desk()
