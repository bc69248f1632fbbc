"""The API change feed and Idempotency-Key under real concurrency on PostgreSQL.

The feed's promise is that it never skips an order, even one whose transaction started
earlier and committed after the client read past it. Proven here with a second connection
holding a write open while the main thread writes, reads the feed to the end and keeps the
cursor. Needs DATABASE_URL=postgres://… (skips locally without it, fails in CI).
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from fulfillment.actors import Actor
from fulfillment.api.auth import api_client_create
from orders import services
from orders.models import Order
from tests.conftest import require_service
from tests.factories import CustomerFactory, OrderFactory

FEED = "/api/v1/orders/feed/"
SYSTEM = Actor.system("tests")


@pytest.fixture
def pg(transactional_db):
    require_service(
        connection.vendor == "postgresql",
        f"needs PostgreSQL: set DATABASE_URL=postgres://… (the test database is {connection.vendor})",
    )


@pytest.fixture
def api(pg) -> APIClient:
    _client, key = api_client_create(name="feed-reader", scopes=["read", "write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def read_to_end(client, cursor=None) -> tuple[list[int], str]:
    seen = []
    for _ in range(100):
        params = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = client.get(FEED, params)
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [row["id"] for row in body["results"]]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return seen, cursor
    raise AssertionError("the feed never ended")


class HeldWrite(threading.Thread):
    """Updates an order in its own transaction and holds it open until released."""

    def __init__(self, order_pk: int):
        super().__init__(daemon=True)
        self.order_pk = order_pk
        self.written = threading.Event()
        self.release = threading.Event()
        self.error: BaseException | None = None
        self.updated_at = None

    def run(self):
        try:
            with transaction.atomic():
                order = Order.objects.get(pk=self.order_pk)
                order = services.order_update_details(actor=SYSTEM, order=order, ship_name="Committed late")
                self.updated_at = Order.objects.get(pk=self.order_pk).updated_at
                self.written.set()
                assert self.release.wait(30), "never released"
        except BaseException as exc:  # reported to the main thread
            self.error = exc
            self.written.set()
        finally:
            connections.close_all()


def test_feed_never_skips_a_late_commit(api):
    customer = CustomerFactory()
    early = [OrderFactory(customer=customer) for _ in range(3)]
    seen, cursor = read_to_end(api)
    assert seen == [o.pk for o in early]

    held = HeldWrite(early[0].pk)
    held.start()
    try:
        assert held.written.wait(30)
        assert held.error is None, held.error
        # meanwhile: a new order, committed at once, after the held write began
        fresh = OrderFactory(customer=customer)
        fresh_updated_at = Order.objects.get(pk=fresh.pk).updated_at
        # read to the end while the held write is open; keep the cursor
        during, cursor = read_to_end(api, cursor)
        assert early[0].pk not in during
        # a plain updated_at sync would now have moved past the held row's timestamp
        assert held.updated_at < fresh_updated_at
    finally:
        held.release.set()
        held.join(30)
    assert held.error is None, held.error

    after, cursor = read_to_end(api, cursor)
    delivered = during + after
    assert early[0].pk in after, "the late-committed order was skipped"
    assert fresh.pk in delivered
    assert sorted(delivered) == sorted({early[0].pk, fresh.pk})
    assert read_to_end(api, cursor)[0] == []
    assert Order.objects.get(pk=early[0].pk).ship_name == "Committed late"

    # the opposite: a client syncing by updated_at, having seen `fresh`, misses the late row
    missed = Order.objects.filter(updated_at__gt=fresh_updated_at)
    assert early[0].pk not in set(missed.values_list("pk", flat=True))


def test_feed_waits_for_open_writer_but_serves_older_rows(api):
    customer = CustomerFactory()
    first = OrderFactory(customer=customer)
    held = HeldWrite(first.pk)
    held.start()
    try:
        assert held.written.wait(30)
        assert held.error is None, held.error
        later = OrderFactory(customer=customer)
        seen, _cursor = read_to_end(api)
        # `first`'s row is being rewritten by an open transaction: its new change_seq is not
        # committed, so the feed shows the committed version or nothing past the horizon
        assert later.pk not in seen
    finally:
        held.release.set()
        held.join(30)
    seen, _cursor = read_to_end(api)
    assert sorted(seen) == sorted([first.pk, later.pk])


def test_concurrent_requests_with_one_idempotency_key_make_one_order(pg):
    _client, key = api_client_create(name="racer", scopes=["read", "write"])
    customer = CustomerFactory()
    body = {
        "customer": customer.pk,
        "source": "shop",
        "external_ref": "RACE-1",
        "lines": [{"sku": "A", "quantity": 1, "unit_price": "1.00"}],
    }
    threads = 4
    barrier = threading.Barrier(threads)
    responses: list = [None] * threads
    errors: list = []

    def post(n):
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
            barrier.wait(10)
            responses[n] = client.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="race-key")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=post, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert not errors, errors
    assert [r.status_code for r in responses] == [201] * threads, [r.content[:200] for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.has_header("Idempotent-Replayed") for r in responses) == threads - 1
    assert Order.objects.filter(external_ref="RACE-1").count() == 1
