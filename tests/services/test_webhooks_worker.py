"""An outbound webhook through Redis and a REAL Celery worker process: an API write commits, its
delivery job is handed out on commit, and the worker POSTs the signed event to a local server."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from fulfillment import webhooks
from fulfillment.api.auth import api_client_create
from fulfillment.models import DeliveryState, Job, JobState, WebhookAttempt, WebhookDelivery, WebhookEvent
from tests.factories import CustomerFactory
from tests.fulfillment.test_webhooks import Receiver, verify

from .conftest import celery_worker, wait_until

pytestmark = pytest.mark.services


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def test_a_worker_delivers_the_event_of_an_api_write(transactional_db, redis_url, monkeypatch, tmp_path, receiver):
    client, key = api_client_create(name="shop", scopes=["read", "write"])
    subscription = webhooks.subscription_create(client=client, url=receiver.url, events=["order.created"])
    customer = CustomerFactory()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    with celery_worker(redis_url=redis_url, tmp_path=tmp_path, monkeypatch=monkeypatch) as (worker, log):
        response = api.post(
            "/api/v1/orders/",
            {"customer": customer.pk, "lines": [{"sku": "A", "quantity": 1, "unit_price": "5.00"}]},
            format="json",
        )
        assert response.status_code == 201
        delivery = wait_until(
            lambda: WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED).first(),
            timeout=60,
            what="the worker to deliver the webhook",
            log=log,
            process=worker,
        )
    event = WebhookEvent.objects.get()
    assert event.payload["data"]["id"] == response.json()["id"]
    ((path, headers, body),) = receiver.hits  # exactly one POST
    assert path == "/hooks/fd"
    assert json.loads(body) == event.payload
    assert headers["X-FD-Event"] == "order.created"
    assert headers["X-FD-Event-Id"] == str(event.event_id)
    assert verify(subscription.secret, body, headers["X-FD-Signature"])
    (attempt,) = WebhookAttempt.objects.filter(delivery=delivery)
    assert (attempt.status, attempt.error) == (200, "")
    assert delivery.attempts == 1
    assert Job.objects.get(kind=webhooks.KIND).state == JobState.DONE
    assert "fulfillment.tasks.run_jobs" in log.read_text(errors="replace")
