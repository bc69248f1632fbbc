"""The kernel's permission rule: tiers for staff, scopes for API clients, the system always."""

from __future__ import annotations

import pytest

from fulfillment.actors import Actor
from fulfillment.errors import PermissionDenied
from fulfillment.permissions import Rule, can, require
from fulfillment.tiers import Tier

from ..factories import UserFactory

pytestmark = pytest.mark.django_db

SENIOR_ONLY = Rule("test.senior", min_tier=Tier.SENIOR_REP)
READABLE = Rule("test.read", api_scope="read")
STAFF_ONLY = Rule("test.staff", api_scope=None)


@pytest.mark.parametrize(
    ("tier", "superuser", "active", "allowed"),
    [
        (None, False, True, False),
        (Tier.REP, False, True, False),
        (Tier.SENIOR_REP, False, True, True),
        (Tier.SPECIALIST, False, True, True),
        (Tier.SUPERVISOR, False, True, True),
        (None, True, True, True),
        (Tier.SUPERVISOR, False, False, False),
        (None, True, False, False),
    ],
)
def test_staff_need_the_rules_tier_and_an_active_account(tier, superuser, active, allowed):
    user = UserFactory(tier=tier, is_superuser=superuser, is_active=active)
    assert can(Actor.for_user(user), SENIOR_ONLY) is allowed


@pytest.mark.parametrize(
    ("rule", "scopes", "allowed"),
    [
        (SENIOR_ONLY, {"write"}, True),
        (SENIOR_ONLY, {"read"}, False),
        (SENIOR_ONLY, set(), False),
        (READABLE, {"read"}, True),
        (READABLE, {"write"}, False),
        (STAFF_ONLY, {"read", "write"}, False),
    ],
)
def test_api_clients_need_the_rules_scope(rule, scopes, allowed):
    actor = Actor.api_client(client_id=1, name="shop", scopes=frozenset(scopes))
    assert can(actor, rule) is allowed


@pytest.mark.parametrize("rule", [SENIOR_ONLY, READABLE, STAFF_ONLY])
def test_the_system_may_do_anything(rule):
    assert can(Actor.system(), rule)


def test_a_refused_staff_member_is_told_which_role_is_needed():
    with pytest.raises(PermissionDenied) as refused:
        require(Actor.for_user(UserFactory(tier=Tier.REP)), SENIOR_ONLY)
    assert str(refused.value.message) == "Your role (Rep) may not do this: it needs Senior rep or above."


def test_others_get_the_plain_refusal():
    with pytest.raises(PermissionDenied) as refused:
        require(Actor.api_client(client_id=1, name="shop", scopes=frozenset()), SENIOR_ONLY)
    assert str(refused.value.message) == "You do not have permission to do that."
