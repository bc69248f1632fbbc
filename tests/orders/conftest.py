"""Fixtures for the orders tests: actors of every kind and logged-in clients."""

from __future__ import annotations

import pytest
from django.test import Client

from fulfillment.actors import Actor
from fulfillment.tiers import Tier

from ..factories import UserFactory


@pytest.fixture
def system():
    return Actor.system("tests")


@pytest.fixture
def api_writer():
    return Actor.api_client(client_id=7, name="shop-front", scopes=frozenset({"read", "write"}))


@pytest.fixture
def api_reader():
    return Actor.api_client(client_id=8, name="reporting", scopes=frozenset({"read"}))


@pytest.fixture
def inactive_user(db):
    """A supervisor who has left: the account still exists, the role no longer counts."""
    return UserFactory(username="gone", tier=Tier.SUPERVISOR, is_active=False)


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def rep_client(rep):
    return _client_for(rep)


@pytest.fixture
def senior_client(senior):
    return _client_for(senior)


@pytest.fixture
def no_role_client(no_role_user):
    return _client_for(no_role_user)
