"""Webhooks in the admin: subscriptions with their secret, the delivery log, "Redeliver"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from fulfillment import clock, scheduling, webhooks
from fulfillment.actors import Actor
from fulfillment.api.auth import api_client_create
from fulfillment.models import DeliveryState, Job, JobState, WebhookAttempt, WebhookDelivery, WebhookSubscription
from orders import services as order_services
from orders.services import LineInput
from tests.factories import CustomerFactory, UserFactory

T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
SUBSCRIPTIONS = reverse("admin:fulfillment_webhooksubscription_changelist")
DELIVERIES = reverse("admin:fulfillment_webhookdelivery_changelist")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def api_client(db):
    return api_client_create(name="erp", scopes=["read"])[0]


def _orders(n: int) -> None:
    customer = CustomerFactory()
    with clock.frozen(T0):
        for _ in range(n):
            order_services.order_create(
                actor=Actor.system("shop"),
                customer=customer,
                lines=[LineInput(sku="A", quantity=1, unit_price=Decimal("5.00"))],
            )


def _fail(delivery: WebhookDelivery, status: int = 500) -> None:
    """One failed try in the log, as the handler writes it."""
    WebhookAttempt.objects.create(delivery=delivery, at=T0, status=status, error="", response_excerpt="<b>no</b>")
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.FAILED, attempts=16, last_status=status, last_error=f"HTTP {status}"
    )


def test_a_subscription_is_created_with_a_secret_shown_on_its_page(admin_client, api_client):
    response = admin_client.post(
        reverse("admin:fulfillment_webhooksubscription_add"),
        {
            "client": api_client.pk,
            "url": "https://erp.example/hooks",
            "events": ["order.shipped", "inquiry.resolved"],
            "active": "on",
            "description": "ERP",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    made = WebhookSubscription.objects.get()
    assert (made.url, made.events, made.active) == (
        "https://erp.example/hooks",
        ["inquiry.resolved", "order.shipped"],
        True,
    )
    assert len(made.secret) >= 40
    page = admin_client.get(reverse("admin:fulfillment_webhooksubscription_change", args=[made.pk])).content.decode()
    assert made.secret in page
    assert 'type="checkbox" name="events" value="order.shipped"' in page
    assert f"?subscription__id__exact={made.pk}" in page  # the link to its delivery log
    assert 'name="secret"' not in page  # read-only: not a form field


def test_a_bad_url_is_a_form_error(admin_client, api_client):
    response = admin_client.post(
        reverse("admin:fulfillment_webhooksubscription_add"),
        {"client": api_client.pk, "url": "ftp://erp.example/hooks", "active": "on"},
    )
    assert response.status_code == 200
    assert "Use an http:// or https:// URL" in response.content.decode()
    assert WebhookSubscription.objects.count() == 0


def test_editing_keeps_the_secret_and_rotating_replaces_it(admin_client, api_client):
    made = webhooks.subscription_create(client=api_client, url="https://erp.example/a")
    response = admin_client.post(
        reverse("admin:fulfillment_webhooksubscription_change", args=[made.pk]),
        {"client": api_client.pk, "url": "https://erp.example/b", "events": ["order.created"], "description": ""},
    )
    assert response.status_code == 302
    edited = WebhookSubscription.objects.get()
    assert (edited.url, edited.events, edited.active, edited.secret) == (
        "https://erp.example/b",
        ["order.created"],
        False,
        made.secret,
    )
    admin_client.post(SUBSCRIPTIONS, {"action": "rotate_secret", "_selected_action": [made.pk]})
    assert WebhookSubscription.objects.get().secret != made.secret


def test_the_delivery_log_is_a_constant_number_of_queries(admin_client, api_client, django_assert_max_num_queries):
    webhooks.subscription_create(client=api_client, url="https://erp.example/a")
    webhooks.subscription_create(client=api_client, url="https://erp.example/b", events=["order.created"])
    _orders(2)
    with django_assert_max_num_queries(30) as few:
        response = admin_client.get(DELIVERIES)
    assert response.status_code == 200
    assert response.content.decode().count("order.created") >= 4
    other = api_client_create(name="shop", scopes=["read"])[0]
    webhooks.subscription_create(client=other, url="https://shop.example/c")
    _orders(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert admin_client.get(DELIVERIES).status_code == 200
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert admin_client.get(SUBSCRIPTIONS).status_code == 200


def test_the_log_of_one_subscription_and_a_delivery_with_its_attempts(admin_client, api_client):
    mine = webhooks.subscription_create(client=api_client, url="https://erp.example/a")
    webhooks.subscription_create(client=api_client, url="https://erp.example/b")
    _orders(1)
    page = admin_client.get(DELIVERIES, {"subscription__id__exact": mine.pk}).content.decode()
    assert "1 webhook delivery" in page
    delivery = WebhookDelivery.objects.get(subscription=mine)
    _fail(delivery)
    page = admin_client.get(reverse("admin:fulfillment_webhookdelivery_change", args=[delivery.pk])).content.decode()
    assert str(delivery.event.event_id) in page
    assert "&lt;b&gt;no&lt;/b&gt;" in page and "<b>no</b>" not in page  # the answer, escaped
    assert "HTTP 500" in page
    assert 'name="_save"' not in page


def test_redeliver_from_the_log(admin_client, api_client):
    webhooks.subscription_create(client=api_client, url="https://erp.example/a")
    _orders(1)
    delivery = WebhookDelivery.objects.get()
    _fail(delivery)
    response = admin_client.post(DELIVERIES, {"action": "redeliver", "_selected_action": [delivery.pk]})
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.state, delivery.round) == (DeliveryState.PENDING, 2)
    job = Job.objects.get(key=f"webhook:{delivery.pk}:2")
    assert job.state == JobState.SCHEDULED and job.kind == webhooks.KIND
    assert scheduling.handlers()[webhooks.KIND].max_attempts == webhooks.MAX_ATTEMPTS


def test_admin_only_with_the_model_permissions(client, api_client):
    webhooks.subscription_create(client=api_client, url="https://erp.example/a")
    _orders(1)
    delivery = WebhookDelivery.objects.get()
    rep = UserFactory(username="rep-not-staff")
    client.force_login(rep)
    assert client.get(DELIVERIES).status_code == 302  # to the admin login
    staff = UserFactory(username="staff-no-perms", is_staff=True)
    client.force_login(staff)
    assert client.get(DELIVERIES).status_code == 403
    assert client.get(SUBSCRIPTIONS).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_webhookdelivery"))
    page = client.get(DELIVERIES)
    assert page.status_code == 200
    assert 'value="redeliver"' not in page.content.decode()  # viewing is not redelivering
    client.post(DELIVERIES, {"action": "redeliver", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.round == 1
