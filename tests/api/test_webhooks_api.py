"""/api/v1/webhooks/: an API client's own subscriptions and their delivery log, read-only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from fulfillment import webhooks
from fulfillment.actors import Actor
from fulfillment.models import DeliveryState, WebhookDelivery
from orders import services
from orders.services import LineInput
from tests.factories import CustomerFactory, UserFactory

from .conftest import assert_problem, key_client

BASE = "/api/v1/webhooks/"


def _orders(n: int) -> None:
    customer = CustomerFactory()
    for _ in range(n):
        services.order_create(
            actor=Actor.system("shop"),
            customer=customer,
            lines=[LineInput(sku="A", quantity=1, unit_price=Decimal("5.00"))],
        )


@pytest.fixture
def mine(make_key):
    client, key = make_key("read")
    subscription = webhooks.subscription_create(
        client=client, url="https://erp.example/hooks", events=["order.created"], description="ERP"
    )
    return subscription, key_client(key)


@pytest.fixture
def theirs(make_key):
    client, _key = make_key("read")
    return webhooks.subscription_create(client=client, url="https://other.example/hooks")


def test_a_client_lists_its_own_subscriptions_without_the_secret(mine, theirs):
    subscription, api = mine
    response = api.get(BASE)
    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": subscription.pk,
            "url": "https://erp.example/hooks",
            "events": ["order.created"],
            "active": True,
            "description": "ERP",
            "created_at": subscription.created_at.isoformat().replace("+00:00", "Z"),
        }
    ]
    assert subscription.secret not in response.content.decode()
    assert api.get(f"{BASE}{subscription.pk}/").json()["id"] == subscription.pk
    assert_problem(api.get(f"{BASE}{theirs.pk}/"), 404)
    assert_problem(api.get(f"{BASE}{theirs.pk}/deliveries/"), 404)


def test_the_delivery_log_filtered_by_state_and_type(mine, theirs):
    subscription, api = mine
    _orders(3)
    first, *_rest = WebhookDelivery.objects.filter(subscription=subscription).order_by("id")
    WebhookDelivery.objects.filter(pk=first.pk).update(state=DeliveryState.FAILED, last_error="HTTP 500", attempts=16)
    rows = api.get(f"{BASE}{subscription.pk}/deliveries/").json()["results"]
    assert len(rows) == 3
    assert {row["type"] for row in rows} == {"order.created"}
    assert [row["id"] for row in rows] == sorted((row["id"] for row in rows), reverse=True)  # newest first
    failed = api.get(f"{BASE}{subscription.pk}/deliveries/", {"state": "failed"}).json()["results"]
    assert [(row["id"], row["last_error"], row["attempts"], row["round"]) for row in failed] == [
        (first.pk, "HTTP 500", 16, 1)
    ]
    assert failed[0]["event_id"] == str(first.event.event_id)
    assert failed[0]["about"] == first.event.ref
    assert api.get(f"{BASE}{subscription.pk}/deliveries/", {"type": "order.shipped"}).json()["results"] == []
    body = assert_problem(api.get(f"{BASE}{subscription.pk}/deliveries/", {"state": "lost"}), 400)
    assert "state" in body["errors"]


def test_pages_follow_the_cursor(mine):
    subscription, api = mine
    _orders(3)
    page = api.get(f"{BASE}{subscription.pk}/deliveries/", {"page_size": 2}).json()
    assert len(page["results"]) == 2 and page["next"]
    rest = api.get(page["next"]).json()
    assert len(rest["results"]) == 1 and rest["next"] is None
    assert_problem(api.get(f"{BASE}{subscription.pk}/deliveries/", {"cursor": "nonsense"}), 404)


def test_who_may_read(mine, make_key, db):
    subscription, _api = mine
    for path in (BASE, f"{BASE}{subscription.pk}/", f"{BASE}{subscription.pk}/deliveries/"):
        assert_problem(APIClient().get(path), 401)  # anonymous
        assert_problem(key_client(make_key("write")[1]).get(path), 403)  # no read scope
        staff = APIClient()
        staff.force_login(UserFactory(username="supervisor-api", tier=4))
        assert_problem(staff.get(path), 403)  # staff use the admin
        other = key_client(make_key("read")[1]).get(path)  # another client: not its subscription
        assert other.status_code == (200 if path == BASE else 404)
    assert key_client(make_key("read")[1]).get(BASE).json()["results"] == []


def test_the_log_is_a_constant_number_of_queries(mine, django_assert_num_queries):
    subscription, api = mine
    _orders(2)
    url = f"{BASE}{subscription.pk}/deliveries/"
    api.get(BASE)  # the key's last_used_at is written on its first use
    with django_assert_num_queries(3):  # the key, the subscription, the page with its events
        assert len(api.get(url).json()["results"]) == 2
    _orders(20)
    with django_assert_num_queries(3):
        assert len(api.get(url).json()["results"]) == 22


@pytest.mark.django_db
def test_real_rows_conform_to_the_schema(make_key):
    """Responses with rows (a failed and pending deliveries) match the generated OpenAPI schema."""
    from tests.schema.test_schemathesis import CHECKS, connection_kept, schema

    client, key = make_key("read")
    subscription = webhooks.subscription_create(client=client, url="https://erp.example/hooks")
    _orders(2)
    WebhookDelivery.objects.filter(pk=WebhookDelivery.objects.first().pk).update(
        state=DeliveryState.FAILED, last_status=500, last_error="HTTP 500"
    )
    hooks = schema.include(path_regex="^/api/v1/webhooks/")
    headers = {"Authorization": f"Api-Key {key}"}
    with connection_kept():
        listed = hooks[BASE]["GET"].Case(query={}).call_and_validate(headers=headers, checks=CHECKS).json()
        assert [row["id"] for row in listed["results"]] == [subscription.pk]
        one = hooks[BASE + "{id}/"]["GET"].Case(path_parameters={"id": subscription.pk})
        assert one.call_and_validate(headers=headers, checks=CHECKS).json() == listed["results"][0]
        log = hooks[BASE + "{id}/deliveries/"]["GET"].Case(path_parameters={"id": subscription.pk}, query={})
        assert len(log.call_and_validate(headers=headers, checks=CHECKS).json()["results"]) == 2
