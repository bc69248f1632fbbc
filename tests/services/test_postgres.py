"""PostgreSQL, the database of record: row locks under real concurrency, and the trigram indexes."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from fulfillment.actors import Actor
from fulfillment.errors import InvalidInput
from fulfillment.tiers import Tier
from orders import events, services
from orders.enums import PaymentKind
from orders.models import Customer, Order, OrderEvent
from orders.selectors import customer_matches
from tests.factories import CustomerFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.services

TRGM_INDEXES = {"customer_name_trgm_idx", "customer_email_trgm_idx", "customer_phone_trgm_idx"}


def test_two_concurrent_refunds_cannot_refund_more_than_was_paid(transactional_db, postgres, monkeypatch):
    """Two reps refund 60 of a 100-paid order at the same moment: the order row lock lets one through."""
    senior_a = UserFactory(username="senior-a", tier=Tier.SENIOR_REP)
    senior_b = UserFactory(username="senior-b", tier=Tier.SENIOR_REP)
    order = OrderFactory(lines=[services.LineInput(sku="MN-270", description="Monitor", quantity=1, unit_price=100)])
    services.order_record_payment(actor=Actor.system("payments"), order=order, amount=Decimal("100.00"))

    # Hold each refund's transaction open a moment after its check passed: without the lock, both
    # threads would read "100 paid, 0 refunded" and both would succeed.
    original = events.refund_recorded

    def slow_refund_recorded(*args, **kwargs):
        time.sleep(0.4)
        return original(*args, **kwargs)

    monkeypatch.setattr(events, "refund_recorded", slow_refund_recorded)

    start = threading.Barrier(2)
    results: dict[str, object] = {}
    finished: dict[str, float] = {}

    def refund(user):
        try:
            start.wait(timeout=10)
            results[user.username] = services.order_refund(
                actor=user, order=Order.objects.get(pk=order.pk), amount=Decimal("60.00"), reason="Damaged"
            )
        except Exception as exc:
            results[user.username] = exc
        finally:
            finished[user.username] = time.monotonic()
            connections.close_all()  # this thread's connection

    threads = [threading.Thread(target=refund, args=(user,)) for user in (senior_a, senior_b)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    elapsed = time.monotonic() - started
    assert not any(thread.is_alive() for thread in threads)

    refused = [name for name, r in results.items() if isinstance(r, Exception)]
    succeeded = [name for name, r in results.items() if not isinstance(r, Exception)]
    assert len(succeeded) == 1, results
    assert len(refused) == 1, results
    error = results[refused[0]]
    assert isinstance(error, InvalidInput), results
    assert "amount" in error.field_errors
    # The refused one waited on the row lock until the other committed (it held it ≥ 0.4 s).
    assert finished[refused[0]] - started >= 0.35, "the second refund did not wait for the first one's lock"
    assert elapsed < 10

    order.refresh_from_db()
    assert order.refunded_amount == Decimal("60.00")
    assert order.payments.filter(kind=PaymentKind.REFUND).count() == 1
    assert OrderEvent.objects.filter(order=order, type="refund_recorded").count() == 1


def test_pg_trgm_extension_and_customer_search_indexes_exist(postgres):
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone() == ("pg_trgm",)
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname = ANY(%s)",
            [Customer._meta.db_table, list(TRGM_INDEXES)],
        )
        found = dict(cursor.fetchall())
    assert set(found) == TRGM_INDEXES
    assert all("gin_trgm_ops" in definition and "USING gin" in definition for definition in found.values())


@pytest.mark.parametrize(
    ("typed", "index"),
    [
        ("(555) 201-4477", "customer_phone_trgm_idx"),  # a phone number, however it is typed
        ("lakshmi", "customer_name_trgm_idx"),  # part of a name, any case
        ("iyer@exa", "customer_email_trgm_idx"),  # part of an email
    ],
)
def test_customer_lookups_can_use_the_trigram_indexes(postgres, typed, index):
    """The SQL Django writes for the desk's "who is calling?" lookup matches the index expressions."""
    CustomerFactory(name="Lakshmi Iyer", email="lakshmi.iyer@example.com", phone="+1 555 201 4477")
    CustomerFactory.create_batch(20)
    queryset = Customer.objects.filter(customer_matches(typed))
    assert queryset.count() == 1
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # tiny tables: ask whether the index CAN be used
        plan = queryset.explain()
    assert index in plan, plan
