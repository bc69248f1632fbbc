"""Two people (or two sweepers) act on the same inquiry at the same moment, each from a thread
with its own database connection, released together by a barrier: exactly one effect, and the
other is told clearly what happened. Needs DATABASE_URL=postgres://… (skips locally without it,
fails in CI)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal
from functools import partial

import pytest
from django.db import connection, connections

from escalation import services
from escalation.enums import Reason, Trigger
from escalation.models import Escalation, EscalationRule, RuleFiring
from escalation.services import auto
from fulfillment import clock
from fulfillment.errors import Conflict
from fulfillment.tiers import Tier
from inquiries import services as inquiry_services
from inquiries.enums import Category, EventType, Priority, RemedyKind, RemedyState
from inquiries.models import Inquiry, InquiryEvent, Remedy
from orders.enums import PaymentKind
from orders.models import Payment
from tests.conftest import require_service
from tests.factories import CustomerFactory, UserFactory
from tests.inquiries.factories import InquiryFactory, paid_order

ROUNDS = 5
#: A Monday 09:00 at the desk: an urgent inquiry opened then is due a first answer at 10:00.
T0 = dt.datetime(2031, 3, 3, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def pg(transactional_db):
    """Real commits on PostgreSQL: every thread's connection sees what the test wrote."""
    require_service(connection.vendor == "postgresql", f"needs PostgreSQL (the test database is {connection.vendor})")


def at_once(calls: dict[str, Callable[[], object]]) -> dict[str, object]:
    """Run each call in its own thread, all released by one barrier → {name: result or the
    exception it raised}."""
    barrier = threading.Barrier(len(calls))
    results: dict[str, object] = {}

    def run(name: str, call: Callable[[], object]) -> None:
        try:
            barrier.wait(10)
            results[name] = call()
        except BaseException as exc:  # reported to the main thread
            results[name] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item, daemon=True) for item in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a call hung"
    return results


def one_winner(results: dict[str, object]) -> tuple[str, Conflict]:
    """Exactly one call succeeded and the other got a Conflict: (the winner's name, the conflict)."""
    winners = [name for name, result in results.items() if not isinstance(result, BaseException)]
    losers = [result for result in results.values() if isinstance(result, BaseException)]
    assert len(winners) == 1, results
    assert len(losers) == 1 and isinstance(losers[0], Conflict), results
    return winners[0], losers[0]


def person(username: str, tier: int, first: str, last: str):
    return UserFactory(username=username, tier=tier, first_name=first, last_name=last)


def test_two_people_escalating_at_once_make_one_escalation_and_the_other_is_told(pg):
    reps = [person("asha", Tier.REP, "Asha", "Rao"), person("bilal", Tier.REP, "Bilal", "Khan")]
    for _ in range(ROUNDS):
        inquiry = InquiryFactory(assignee=reps[0])
        seen = inquiry.version
        escalate = partial(
            services.escalate, inquiry=inquiry, reason=Reason.AUTHORITY, tried="Offered a credit", expected_version=seen
        )
        results = at_once({rep.username: partial(escalate, actor=rep) for rep in reps})
        winner, conflict = one_winner(results)
        assert conflict.message == (
            "Someone changed this inquiry a moment ago: it is now at the Senior rep tier. "
            "Reload it to see what happened."
        )
        [escalation] = Escalation.objects.filter(inquiry=inquiry)
        assert (escalation.from_user.username, escalation.to_tier) == (winner, Tier.SENIOR_REP)
        row = Inquiry.objects.get(pk=inquiry.pk)
        assert (row.tier, row.version) == (Tier.SENIOR_REP, seen + 1)
        assert InquiryEvent.objects.filter(inquiry=inquiry, type=EventType.ESCALATED).count() == 1


def test_two_approvers_approving_at_once_make_one_refund_and_the_other_is_told_who(pg):
    asker = UserFactory(username="asker", tier=Tier.REP)
    seniors = [person("chen", Tier.SENIOR_REP, "Chen", "Li"), person("dana", Tier.SENIOR_REP, "Dana", "Cruz")]
    names = {"chen": "Chen Li", "dana": "Dana Cruz"}
    for _ in range(ROUNDS):
        customer = CustomerFactory()
        order = paid_order(customer, "500.00")
        inquiry = InquiryFactory(customer=customer, category=Category.BILLING, orders=[order])
        remedy = inquiry_services.remedy_propose(
            actor=asker, inquiry=inquiry, kind=RemedyKind.REFUND, reason="Charged twice", amount="250.00", order=order
        )
        approve = partial(inquiry_services.remedy_approve, remedy=remedy)
        results = at_once({senior.username: partial(approve, actor=senior) for senior in seniors})
        winner, conflict = one_winner(results)
        assert conflict.message == f"{names[winner]} already answered this request: accepted."
        refunds = Payment.objects.filter(order=order, kind=PaymentKind.REFUND)
        assert [p.amount for p in refunds] == [Decimal("250.00")]
        done = Remedy.objects.get(pk=remedy.pk)
        assert (done.state, done.approved_by.username, done.refund_payment_id) == (
            RemedyState.ACCEPTED,
            winner,
            refunds.get().pk,
        )
        order.refresh_from_db()
        assert order.refunded_amount == Decimal("250.00")


def test_two_supervisors_taking_over_at_once_one_has_it_and_the_other_is_told_who(pg):
    bosses = [person("eve", Tier.SUPERVISOR, "Eve", "Okafor"), person("femi", Tier.SUPERVISOR, "Femi", "Adeyemi")]
    names = {"eve": "Eve Okafor", "femi": "Femi Adeyemi"}
    rep = UserFactory(username="rep", tier=Tier.REP)
    for _ in range(ROUNDS):
        inquiry = InquiryFactory(assignee=rep)
        services.escalate(
            actor=rep,
            inquiry=inquiry,
            reason=Reason.COMPLAINT,
            tried="Apologised",
            to_tier=Tier.SUPERVISOR,
            skip_reason="Legal threat",
        )
        take_over = partial(services.take_over, inquiry=inquiry)
        results = at_once({boss.username: partial(take_over, actor=boss) for boss in bosses})
        winner, conflict = one_winner(results)
        assert conflict.message == f"{names[winner]} has already taken this inquiry over."
        assert Inquiry.objects.get(pk=inquiry.pk).assignee.username == winner
        assert Escalation.objects.get(inquiry=inquiry).taken_by.username == winner
        taken = InquiryEvent.objects.filter(inquiry=inquiry, type=EventType.TAKEN_OVER)
        assert [e.details["new"] for e in taken] == [names[winner]]


def test_two_sweepers_at_once_escalate_each_breach_once(pg):
    EscalationRule.objects.create(name="First answer late", trigger=Trigger.FIRST_RESPONSE_BREACHED)
    sweepers = dict.fromkeys(("sweeper-1", "sweeper-2"), auto.apply_rules)
    for _ in range(ROUNDS):
        with clock.frozen(T0):
            breached = {InquiryFactory(priority=Priority.URGENT).pk for _ in range(6)}
        with clock.frozen(T0 + dt.timedelta(hours=1)):  # due at 10:00: breached
            first, again = at_once(sweepers), at_once(sweepers)

        assert not any(isinstance(result, BaseException) for result in [*first.values(), *again.values()]), first
        fired = [firing.inquiry_id for firings in first.values() for firing in firings]
        assert sorted(fired) == sorted(breached)  # each breach once, whichever sweeper got it
        assert list(again.values()) == [[], []]
        assert RuleFiring.objects.filter(inquiry_id__in=breached).count() == len(breached)
        assert Escalation.objects.filter(inquiry_id__in=breached).count() == len(breached)
        assert set(Inquiry.objects.filter(pk__in=breached).values_list("tier", flat=True)) == {Tier.SENIOR_REP}
