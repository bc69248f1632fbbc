"""Fixtures for the inquiry tests: actors of every kind and an inquiry with an order."""

from __future__ import annotations

import datetime as dt

import pytest

from fulfillment import clock
from fulfillment.actors import Actor

from .factories import InquiryFactory

#: A fixed "now" for tests that compare deadlines.
NOW = dt.datetime(2031, 3, 4, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen_now():
    with clock.frozen(NOW):
        yield NOW


@pytest.fixture
def system(db):
    return Actor.system("tests")


@pytest.fixture
def api_reader():
    return Actor.api_client(client_id=1, name="shop", scopes=frozenset({"read"}))


@pytest.fixture
def api_writer():
    return Actor.api_client(client_id=2, name="shop-writer", scopes=frozenset({"read", "write"}))


@pytest.fixture
def inquiry(customer, order):
    """A new email inquiry of ``customer`` about ``order`` (linked), with the customer's first message."""
    return InquiryFactory(customer=customer, orders=[order])
