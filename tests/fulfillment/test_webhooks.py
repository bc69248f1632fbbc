"""Outbound webhooks (fulfillment.webhooks): the outbox written with the change, the signed POST
to a real HTTP server on 127.0.0.1, retries on an injected clock, failure and redelivery.

The same path through Redis and a real Celery worker: tests/services/test_webhooks_worker.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import subprocess
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from fulfillment import clock, scheduling, webhooks
from fulfillment.actors import Actor
from fulfillment.api.auth import api_client_create
from fulfillment.models import (
    DeliveryState,
    Job,
    JobState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from inquiries import services as inquiry_services
from orders import services as order_services
from orders.services import LineInput
from tests.factories import CustomerFactory
from tests.inquiries.factories import InquiryFactory

T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
SHOP = Actor.system("shop sync")
LINES = [LineInput(sku="KB-1", quantity=2, unit_price=Decimal("25.00"))]


class Receiver:
    """A real HTTP endpoint on 127.0.0.1: records every request; answers ``status``; holds the
    answer while ``gate`` is closed (a slow endpoint)."""

    def __init__(self) -> None:
        self.hits: list[tuple[str, dict[str, str], bytes]] = []
        self.status = 200
        self.headers: dict[str, str] = {}
        self.gate = threading.Event()
        self.gate.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.hits.append((self.path, dict(self.headers.items()), body))
                receiver.gate.wait(10)
                self.send_response(receiver.status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.handle_error = lambda request, address: None  # the client hung up: fine
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/fd"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def client(db):
    return api_client_create(name="erp", scopes=["read"])[0]


@pytest.fixture
def subscription(client, receiver):
    return webhooks.subscription_create(client=client, url=receiver.url)


def _order():
    with clock.frozen(T0):
        return order_services.order_create(actor=SHOP, customer=CustomerFactory(), lines=LINES)


def _run(job: Job, at: dt.datetime) -> str:
    """Claim the job at ``at`` and run it there (the sweep and the worker, on an injected clock)."""
    with clock.frozen(at):
        assert scheduling.claim_due(now=at) == [job.pk]
        return scheduling.run_job(job.pk)


def _job() -> Job:
    return Job.objects.get(kind=webhooks.KIND, state=JobState.SCHEDULED)


def verify(secret: str, body: bytes, header: str) -> bool:
    """The receiving side's check, as docs/webhooks.md gives it."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


# --- the outbox ------------------------------------------------------------------------------


def test_the_outbox_is_written_with_the_change(subscription):
    order = _order()
    event = WebhookEvent.objects.get()
    assert (event.type, event.ref, event.created_at) == ("order.created", f"order:{order.pk}", T0)
    assert event.payload == {
        "id": str(event.event_id),
        "type": "order.created",
        "created_at": T0.isoformat(),
        "data": {
            "id": order.pk,
            "number": order.number,
            "status": "placed",
            "version": 1,
            "updated_at": T0.isoformat(),
            "url": f"http://127.0.0.1:8000/api/v1/orders/{order.pk}/",
            "total": "50.00",
            "currency": "USD",
        },
    }
    delivery = WebhookDelivery.objects.get()
    assert (delivery.subscription, delivery.event, delivery.state, delivery.round) == (
        subscription,
        event,
        DeliveryState.PENDING,
        1,
    )
    job = Job.objects.get(kind=webhooks.KIND)
    assert (job.key, job.ref, job.due_at, job.payload) == (
        f"webhook:{delivery.pk}:1",
        f"webhook-delivery:{delivery.pk}",
        T0,
        {"delivery": delivery.pk, "round": 1},
    )


def test_the_outbox_is_rolled_back_with_the_change(subscription):
    with pytest.raises(RuntimeError), transaction.atomic():
        _order()
        assert WebhookEvent.objects.count() == 1
        raise RuntimeError("the change failed after the event was recorded")
    assert (WebhookEvent.objects.count(), WebhookDelivery.objects.count(), Job.objects.count()) == (0, 0, 0)


def test_no_subscription_writes_nothing_and_costs_one_query_per_transaction(transactional_db):
    """Each service call is its own transaction here (as in production): the list of active
    subscriptions is read once per transaction, however many events it records."""
    order = _order()
    order_services.order_confirm(actor=SHOP, order=order)
    order_services.order_start_processing(actor=SHOP, order=order)
    order_services.order_pack(actor=SHOP, order=order)
    with CaptureQueriesContext(connection) as queries:
        # two events in one transaction: status changed, and shipped
        order_services.order_ship(actor=SHOP, order=order, carrier="UPS", tracking_number="1Z")
    asked = [q["sql"] for q in queries if "fulfillment_webhooksubscription" in q["sql"]]
    assert len(asked) == 1
    assert (WebhookEvent.objects.count(), WebhookDelivery.objects.count(), Job.objects.count()) == (0, 0, 0)


def test_a_subscription_made_inside_the_transaction_is_seen_by_its_next_event(client, receiver):
    with transaction.atomic():
        _order()
        webhooks.subscription_create(client=client, url=receiver.url)
        _order()
    assert WebhookEvent.objects.count() == 1


def test_subscriptions_get_the_types_they_chose(client, receiver):
    everything = webhooks.subscription_create(client=client, url=receiver.url)
    shipped_only = webhooks.subscription_create(client=client, url=receiver.url, events=["order.shipped"])
    order = _order()
    for step in (order_services.order_confirm, order_services.order_start_processing, order_services.order_pack):
        step(actor=SHOP, order=order)
    order_services.order_ship(actor=SHOP, order=order, carrier="UPS", tracking_number="1Z")
    types = list(WebhookEvent.objects.order_by("id").values_list("type", flat=True))
    assert types == ["order.created", *["order.status_changed"] * 4, "order.shipped"]
    assert WebhookDelivery.objects.filter(subscription=everything).count() == 6
    (only,) = WebhookDelivery.objects.filter(subscription=shipped_only).select_related("event")
    assert only.event.type == "order.shipped"
    assert only.event.payload["data"]["shipment"]["tracking_number"] == "1Z"
    assert only.event.payload["data"]["status"] == "shipped"


def test_an_inactive_subscription_or_a_revoked_client_gets_nothing(client, receiver):
    webhooks.subscription_create(client=client, url=receiver.url, active=False)
    revoked = api_client_create(name="old shop", scopes=["read"])[0]
    webhooks.subscription_create(client=revoked, url=receiver.url)
    revoked.revoked_at = T0
    revoked.save(update_fields=["revoked_at"])
    _order()
    assert (WebhookEvent.objects.count(), WebhookDelivery.objects.count()) == (0, 0)


def test_bulk_orders_are_one_insert_per_table(subscription):
    customer = CustomerFactory()
    specs = [{"customer": customer, "lines": LINES, "source": "shop", "external_ref": f"B-{n}"} for n in range(3)]
    with CaptureQueriesContext(connection) as queries, clock.frozen(T0):
        created = order_services.order_create_many(actor=SHOP, orders=specs)

    def inserts(table: str) -> int:
        return len([q for q in queries if q["sql"].startswith(f'INSERT INTO "{table}"')])

    assert (inserts("fulfillment_webhookevent"), inserts("fulfillment_webhookdelivery")) == (1, 1)
    assert inserts("fulfillment_job") == 1
    payloads = [e.payload["data"] for e in WebhookEvent.objects.order_by("id")]
    assert [(p["id"], p["number"], p["status"], p["version"]) for p in payloads] == [
        (o.pk, o.number, "placed", 1) for o in created
    ]
    assert Job.objects.filter(kind=webhooks.KIND).count() == 3


def test_inquiry_events_carry_the_saved_version(subscription, rep):
    inquiry = InquiryFactory()
    inquiry_services.inquiry_update(actor=rep, inquiry=inquiry, subject="Parcel lost")
    inquiry.refresh_from_db()
    updated_version = inquiry.version
    inquiry_services.inquiry_set_status(actor=rep, inquiry=inquiry, status="resolved", override_open_steps=True)
    inquiry.refresh_from_db()
    events = {e.type: e.payload["data"] for e in WebhookEvent.objects.filter(ref=f"inquiry:{inquiry.pk}")}
    assert set(events) == {"inquiry.created", "inquiry.updated", "inquiry.status_changed", "inquiry.resolved"}
    assert events["inquiry.updated"]["changed"] == ["subject"]
    assert events["inquiry.updated"]["version"] == updated_version
    for type_ in ("inquiry.status_changed", "inquiry.resolved"):
        assert events[type_]["version"] == inquiry.version  # the version the resolve saved
        assert events[type_]["updated_at"] == inquiry.updated_at.isoformat()
        assert events[type_]["status"] == "resolved"
    assert events["inquiry.status_changed"]["old_status"] == "new"
    assert events["inquiry.resolved"]["reference"] == inquiry.reference
    assert events["inquiry.resolved"]["url"].endswith(f"/api/v1/inquiries/{inquiry.reference}/")


# --- delivering ------------------------------------------------------------------------------


def test_a_delivery_is_posted_signed_to_the_endpoint(subscription, receiver):
    _order()
    delivery = WebhookDelivery.objects.select_related("event").get()
    assert _run(_job(), T0) == JobState.DONE
    ((path, headers, body),) = receiver.hits
    assert path == "/hooks/fd"
    assert json.loads(body) == delivery.event.payload
    assert headers["Content-Type"] == "application/json"
    assert headers["X-FD-Event"] == "order.created"
    assert headers["X-FD-Event-Id"] == str(delivery.event.event_id) == json.loads(body)["id"]
    assert headers["X-FD-Delivery"] == str(delivery.pk)
    assert headers["X-FD-Timestamp"] == str(int(T0.timestamp()))
    assert verify(subscription.secret, body, headers["X-FD-Signature"])
    assert not verify(subscription.secret, body + b" ", headers["X-FD-Signature"])
    assert not verify("another secret", body, headers["X-FD-Signature"])
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status, delivery.delivered_at) == (
        DeliveryState.DELIVERED,
        1,
        200,
        T0,
    )
    (attempt,) = WebhookAttempt.objects.all()
    assert (attempt.status, attempt.error, attempt.response_excerpt, attempt.at) == (200, "", "ok", T0)


def test_the_signature_verifies_with_openssl(subscription, receiver):
    """The shell recipe of docs/webhooks.md."""
    _order()
    _run(_job(), T0)
    ((_path, headers, body),) = receiver.hits
    out = subprocess.run(
        ["openssl", "dgst", "-sha256", "-hmac", subscription.secret],
        input=body,
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert "sha256=" + out.split("= ")[-1].strip() == headers["X-FD-Signature"]


def test_a_failing_endpoint_is_retried_with_growing_back_off_then_failed(subscription, receiver):
    receiver.status = 500
    _order()
    job = _job()
    due, gaps = T0, []
    for n in range(1, webhooks.MAX_ATTEMPTS + 1):
        state = _run(job, due)
        job.refresh_from_db()
        if n < webhooks.MAX_ATTEMPTS:
            assert state == JobState.SCHEDULED
            gaps.append(int((job.due_at - due).total_seconds() // 60))
            due = job.due_at
    assert gaps == [1, 2, 4, 8, 16, 32] + [60] * 9
    assert sum(gaps) == 603  # about ten hours
    assert job.state == JobState.FAILED
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status, delivery.last_error) == (
        DeliveryState.FAILED,
        16,
        500,
        "HTTP 500",
    )
    assert set(WebhookAttempt.objects.values_list("status", flat=True)) == {500}
    assert WebhookAttempt.objects.count() == len(receiver.hits) == 16


def test_a_redirect_is_not_followed(subscription, receiver):
    receiver.status = 302
    receiver.headers = {"Location": receiver.url + "/elsewhere"}
    _order()
    assert _run(_job(), T0) == JobState.SCHEDULED
    assert len(receiver.hits) == 1
    attempt = WebhookAttempt.objects.get()
    assert attempt.status == 302
    assert WebhookDelivery.objects.get().state == DeliveryState.PENDING


def test_a_slow_endpoint_times_out_and_is_retried(subscription, receiver, monkeypatch):
    monkeypatch.setattr(webhooks, "TOTAL_TIMEOUT", 0.5)
    receiver.gate.clear()  # the endpoint takes its time
    _order()
    job = _job()
    assert _run(job, T0) == JobState.SCHEDULED
    receiver.gate.set()
    attempt = WebhookAttempt.objects.get()
    assert attempt.status is None
    assert attempt.error.startswith("timed out")
    assert 400 <= attempt.duration_ms < 5000
    job.refresh_from_db()
    assert job.due_at == T0 + dt.timedelta(minutes=1)
    assert "timed out" in job.last_error
    assert WebhookDelivery.objects.get().state == DeliveryState.PENDING


def test_a_refused_connection_is_logged_and_retried(client, receiver):
    url = receiver.url
    receiver.close()  # nobody listens there any more
    webhooks.subscription_create(client=client, url=url)
    _order()
    assert _run(_job(), T0) == JobState.SCHEDULED
    attempt = WebhookAttempt.objects.get()
    assert attempt.status is None
    assert "refused" in attempt.error.lower()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status) == (DeliveryState.PENDING, 1, None)
    assert "refused" in delivery.last_error.lower()


def test_a_subscription_switched_off_before_delivery_is_not_posted(subscription, receiver):
    _order()
    subscription.active = False
    webhooks.subscription_save(subscription=subscription, fields=["active"])
    assert _run(_job(), T0) == JobState.DONE
    assert receiver.hits == []
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.last_error) == (DeliveryState.FAILED, "subscription switched off")


def test_redeliver_a_failed_or_delivered_one(subscription, receiver):
    receiver.status = 500
    _order()
    delivery = WebhookDelivery.objects.get()
    job = _job()
    with clock.frozen(T0):
        Job.objects.filter(pk=job.pk).update(attempts=webhooks.MAX_ATTEMPTS - 1)
    assert _run(job, T0) == JobState.FAILED
    assert WebhookDelivery.objects.get().state == DeliveryState.FAILED

    receiver.status = 204
    later = T0 + dt.timedelta(days=1)
    with clock.frozen(later):
        webhooks.redeliver(delivery=delivery)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.round, delivery.last_error) == (DeliveryState.PENDING, 2, "")
    second = Job.objects.get(key=f"webhook:{delivery.pk}:2")
    assert (second.state, second.due_at) == (JobState.SCHEDULED, later)
    assert _run(second, later) == JobState.DONE
    delivery.refresh_from_db()
    assert (delivery.state, delivery.delivered_at, delivery.last_status) == (DeliveryState.DELIVERED, later, 204)

    with clock.frozen(later):
        webhooks.redeliver(delivery=delivery)  # a delivered one goes again too
    assert _run(Job.objects.get(key=f"webhook:{delivery.pk}:3"), later) == JobState.DONE
    bodies = {body for _path, _headers, body in receiver.hits}
    assert len(bodies) == 1  # every round sends the same bytes: the receiver drops repeats by id
    assert len({headers["X-FD-Event-Id"] for _p, headers, _b in receiver.hits}) == 1
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 3


def test_redeliver_cancels_the_waiting_retry_of_the_round_before(subscription, receiver):
    receiver.status = 503
    _order()
    first = _job()
    assert _run(first, T0) == JobState.SCHEDULED  # waiting a minute for its second try
    with clock.frozen(T0):
        webhooks.redeliver(delivery=WebhookDelivery.objects.get())
    first.refresh_from_db()
    assert first.state == JobState.CANCELLED
    assert Job.objects.filter(kind=webhooks.KIND, state=JobState.SCHEDULED).count() == 1


def test_an_old_rounds_job_does_nothing(subscription, receiver):
    _order()
    job = _job()
    with clock.frozen(T0):
        scheduling.claim_due(now=T0)  # handed to a worker…
        webhooks.redeliver(delivery=WebhookDelivery.objects.get())  # …and a new round asked for
        assert scheduling.run_job(job.pk) == JobState.DONE
    assert receiver.hits == []  # round 1 stood down; round 2 sends it


def test_only_http_urls_are_accepted(client):
    from fulfillment.errors import InvalidInput

    for url in ("file:///etc/passwd", "ftp://example.com/x", "gopher://h/", "http:///nohost", "javascript:x"):
        with pytest.raises(InvalidInput):
            webhooks.subscription_create(client=client, url=url)
    assert WebhookSubscription.objects.count() == 0
    made = webhooks.subscription_create(client=client, url="https://erp.example/hooks")
    assert len(made.secret) >= 40


def test_a_slow_endpoint_never_delays_the_request_that_caused_the_event(transactional_db, receiver):
    """The API write commits and answers; the POST happens later, in the delivery job."""
    client, key = api_client_create(name="shop", scopes=["read", "write"])
    webhooks.subscription_create(client=client, url=receiver.url)
    receiver.gate.clear()  # anything posted now would hang for 10 s
    customer = CustomerFactory()
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    started = time.monotonic()
    response = api.post(
        "/api/v1/orders/",
        {"customer": customer.pk, "lines": [{"sku": "A", "quantity": 1, "unit_price": "5.00"}]},
        format="json",
    )
    took = time.monotonic() - started
    assert response.status_code == 201
    assert took < 3
    assert receiver.hits == []
    job = Job.objects.get(kind=webhooks.KIND)
    assert job.state == JobState.QUEUED  # handed out on commit
    receiver.gate.set()
    assert scheduling.run_job(job.pk) == JobState.DONE
    assert len(receiver.hits) == 1
    assert WebhookDelivery.objects.get().state == DeliveryState.DELIVERED
