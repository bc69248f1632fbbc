"""Fixtures for the REST API tests: API keys of each scope and JSON clients."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from fulfillment.api.auth import api_client_create
from orders.services import LineInput
from tests.factories import CustomerFactory, OrderFactory

_names = itertools.count()

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def assert_problem(response, status: int) -> dict:
    """The response is the API's error shape with this status."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert set(body) >= PROBLEM_KEYS, body
    assert body["status"] == status
    return body


def line(sku="SKU-1", quantity=1, unit_price="5.00", **extra) -> dict:
    return {"sku": sku, "quantity": quantity, "unit_price": unit_price, **extra}


def order_body(customer_id: int, **extra) -> dict:
    return {"customer": customer_id, "lines": [line()], **extra}


@pytest.fixture
def make_key(db):
    def make(*scopes: str):
        return api_client_create(name=f"client-{next(_names)}", scopes=list(scopes))

    return make


@pytest.fixture
def rw(make_key) -> APIClient:
    _client, key = make_key("read", "write")
    return key_client(key)


@pytest.fixture
def ro(make_key) -> APIClient:
    _client, key = make_key("read")
    return key_client(key)


@pytest.fixture
def wo(make_key) -> APIClient:
    _client, key = make_key("write")
    return key_client(key)


def make_order(customer=None, **kwargs):
    kwargs.setdefault(
        "lines", [LineInput(sku="KB-100", description="Keyboard", quantity=2, unit_price=Decimal("25.00"))]
    )
    return OrderFactory(customer=customer or CustomerFactory(), **kwargs)
