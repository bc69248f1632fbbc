"""Shared fixtures. Real database; factories, not fixture files."""

from __future__ import annotations

import importlib
import os

import pytest
from django.apps import apps

from fulfillment.tiers import Tier
from inquiries.services import targets

from .factories import CustomerFactory, OrderFactory, UserFactory

# Playwright's sync API runs an event loop in this thread; Django's ORM must still be allowed.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def require_service(available: bool, reason: str) -> None:
    """Skip a service test when its service is not configured — but never in CI.

    CI sets FD_REQUIRE_SERVICES=1: there a missing service fails the test instead of skipping it.
    """
    if available:
        return
    if os.environ.get("FD_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service missing in CI: {reason}")
    pytest.skip(reason)


_DEFAULT_POLICY = importlib.import_module("inquiries.migrations.0006_default_service_policy")
_DEFAULT_AUTHORITY = importlib.import_module("inquiries.migrations.0011_default_authority_limits")
_ESCALATION_DEFAULTS = importlib.import_module("escalation.migrations.0002_notice_templates_example_rules")
_FOLLOW_UP_DEFAULTS = importlib.import_module("inquiries.migrations.0014_default_follow_up_delays")
_FOLLOW_UP_RULE = importlib.import_module("escalation.migrations.0004_follow_up_missed_rule")
_UPDATE_TEMPLATES = importlib.import_module("inquiries.migrations.0015_update_templates")


def pytest_sessionstart(session):
    """The translation catalogues compiled as `make test` does, so a bare `pytest` serves the same
    languages (scripts/messages.py; four small files, well under a second)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, str(root / "scripts" / "messages.py"), "compile"], check=True)


@pytest.fixture(autouse=True)
def _the_clock_is_left_running():
    """A test that leaves ``clock`` frozen (e.g. ``clock.frozen`` entered in two threads at once)
    fails itself, not whichever test happens to run next."""
    from django.utils import timezone

    from fulfillment import clock

    yield
    if clock._now is not timezone.now:
        clock._now = timezone.now
        pytest.fail("the test left fulfillment.clock frozen")


@pytest.fixture(autouse=True)
def _service_target_defaults(request):
    """Migration 0006 creates the default calendar and service policy, inquiries 0011 the
        authority limits, escalation 0002 the escalation notice templates and the example rules
        (off), inquiries 0014 the follow-up call delays and scheduled-work settings, escalation 0004
    the missed-follow-up rule (off); a transactional test's flush deletes them for the tests after it. Every test that
        uses the database gets them."""
    names = request.fixturenames
    if "transactional_db" in names or "live_server" in names:
        request.getfixturevalue("transactional_db")
    elif "db" in names or request.node.get_closest_marker("django_db"):
        request.getfixturevalue("db")
    else:
        return
    _DEFAULT_POLICY.create(apps, None)
    _DEFAULT_AUTHORITY.create(apps, None)
    _ESCALATION_DEFAULTS.create(apps, None)
    _FOLLOW_UP_DEFAULTS.create(apps, None)
    _FOLLOW_UP_RULE.create(apps, None)
    _UPDATE_TEMPLATES.create(apps, None)
    # Rolled-back tests reuse calendar ids at version 1: never serve one test another's hours.
    targets._calendars.clear()


@pytest.fixture
def rep(db):
    return UserFactory(username="rep1", tier=Tier.REP)


@pytest.fixture
def senior(db):
    return UserFactory(username="senior1", tier=Tier.SENIOR_REP)


@pytest.fixture
def specialist(db):
    return UserFactory(username="specialist1", tier=Tier.SPECIALIST)


@pytest.fixture
def supervisor(db):
    return UserFactory(username="supervisor1", tier=Tier.SUPERVISOR)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", tier=None, is_staff=True, is_superuser=True)


@pytest.fixture
def no_role_user(db):
    """Logged in, but no staff role: may open nothing on the desk."""
    return UserFactory(username="visitor", tier=None)


@pytest.fixture
def customer(db):
    return CustomerFactory()


@pytest.fixture
def order(db, customer):
    return OrderFactory(customer=customer)
