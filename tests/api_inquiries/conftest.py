"""Fixtures for the inquiry API tests: the API key clients of tests/api, inquiries made
through the services."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from fulfillment.actors import Actor
from inquiries import services
from tests.api.conftest import assert_problem, key_client, make_key, make_order, ro, rw, wo  # noqa: F401
from tests.factories import CustomerFactory

SYSTEM = Actor.system("test")
URL = "/api/v1/inquiries/"


def url(inquiry, tail: str = "") -> str:
    return f"{URL}{inquiry.pk}/{tail}"


def make_inquiry(customer=None, **kwargs):
    kwargs.setdefault("subject", "Where is my parcel?")
    kwargs.setdefault("channel", "web")
    kwargs.setdefault("body", "It has been a week.")
    return services.inquiry_create(actor=SYSTEM, customer=customer or CustomerFactory(), **kwargs)


@pytest.fixture
def inquiry(db):
    return make_inquiry(CustomerFactory(name="Ann Example", email="ann@example.com"))


@pytest.fixture
def revoked(make_key) -> APIClient:  # noqa: F811
    from fulfillment import clock

    client, key = make_key("read", "write")
    client.revoked_at = clock.now()
    client.save(update_fields=["revoked_at"])
    return key_client(key)


@pytest.fixture
def staff(rep) -> APIClient:
    client = APIClient()
    client.force_login(rep)
    return client
