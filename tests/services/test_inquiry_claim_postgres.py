"""Two reps claim the same inquiry at the same moment, each from a thread with its own database
connection: the row lock lets exactly one win; the other is told who has it. Needs
DATABASE_URL=postgres://… (skips locally without it, fails in CI)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from fulfillment.errors import Conflict
from fulfillment.tiers import Tier
from inquiries import services
from inquiries.enums import EventType
from inquiries.models import Inquiry, InquiryEvent
from tests.conftest import require_service
from tests.factories import UserFactory
from tests.inquiries.factories import InquiryFactory

ROUNDS = 5


@pytest.fixture
def pg(transactional_db):
    require_service(
        connection.vendor == "postgresql",
        f"needs PostgreSQL: set DATABASE_URL=postgres://… (the test database is {connection.vendor})",
    )


def claim_at_once(inquiry_pk: int, users) -> dict:
    """Each user claims from their own thread, all released by one barrier. → {username: result}."""
    barrier = threading.Barrier(len(users))
    results = {}

    def claim(user):
        try:
            barrier.wait(10)
            services.inquiry_claim(actor=user, inquiry=Inquiry.objects.get(pk=inquiry_pk))
            results[user.username] = "won"
        except Conflict as conflict:
            results[user.username] = conflict
        except BaseException as exc:  # reported to the main thread
            results[user.username] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim, args=(user,), daemon=True) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads), "a claim hung"
    return results


def test_two_reps_claiming_at_once_one_wins_and_the_other_is_told_who(pg):
    reps = [
        UserFactory(username="asha", first_name="Asha", last_name="Rao", tier=Tier.REP),
        UserFactory(username="bilal", first_name="Bilal", last_name="Khan", tier=Tier.REP),
    ]
    full_names = {"asha": "Asha Rao", "bilal": "Bilal Khan"}
    for _ in range(ROUNDS):
        inquiry = InquiryFactory()
        results = claim_at_once(inquiry.pk, reps)

        winners = [name for name, result in results.items() if result == "won"]
        losers = [result for result in results.values() if result != "won"]
        assert len(winners) == 1, results
        assert len(losers) == 1 and isinstance(losers[0], Conflict), results
        assert full_names[winners[0]] in losers[0].message

        row = Inquiry.objects.get(pk=inquiry.pk)
        assert row.assignee.username == winners[0]
        assert row.version == inquiry.version + 1
        claims = InquiryEvent.objects.filter(inquiry=inquiry, type=EventType.ASSIGNED)
        assert [e.details["new"] for e in claims] == winners
