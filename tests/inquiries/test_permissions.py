"""Who may call which inquiry service: every write against the actors that must be refused
(a read-only API client, a logged-in user without a desk role, a rep on a specialist-tier
inquiry, a supervisor who has left) and the actors that may."""

from __future__ import annotations

import datetime as dt

import pytest

from fulfillment import clock
from fulfillment.actors import Actor
from fulfillment.errors import PermissionDenied
from fulfillment.tiers import Tier
from inquiries import services
from inquiries.enums import CallDirection, CallOutcome, Category, Channel, InquiryStatus, RemedyKind, RemedyState
from orders.enums import Department

from ..factories import UserFactory
from .conftest import NOW
from .factories import InquiryFactory
from .helpers import refused

SYSTEM = Actor.system("tests")


@pytest.fixture
def case(customer, order):
    """A complaint at the specialist tier with one of everything a service can act on."""
    with clock.frozen(NOW):
        inquiry = InquiryFactory(customer=customer, orders=[order], category=Category.COMPLAINT, tier=Tier.SPECIALIST)
        return {
            "inquiry": inquiry,
            "order": order,
            "callback": services.callback_promise(actor=SYSTEM, inquiry=inquiry, due_at=NOW + dt.timedelta(hours=2)),
            "step": services.plan_step_add(actor=SYSTEM, inquiry=inquiry, title="Check"),
            "remedy": services.remedy_propose(
                actor=SYSTEM, inquiry=inquiry, kind=RemedyKind.GIFT, amount=5, reason="x"
            ),
        }


#: Every write, as (name, call(actor, case)).
WRITES = {
    "reply_send": lambda a, c: services.reply_send(actor=a, inquiry=c["inquiry"], body="Hi"),
    "note_add": lambda a, c: services.note_add(actor=a, inquiry=c["inquiry"], body="Hi"),
    "set_status": lambda a, c: services.inquiry_set_status(actor=a, inquiry=c["inquiry"], status=InquiryStatus.OPEN),
    "update": lambda a, c: services.inquiry_update(actor=a, inquiry=c["inquiry"], subject="New subject"),
    "claim": lambda a, c: services.inquiry_claim(actor=a, inquiry=c["inquiry"]),
    "assign": lambda a, c: services.inquiry_assign(actor=a, inquiry=c["inquiry"], assignee=UserFactory(tier=4)),
    "unlink_order": lambda a, c: services.unlink_order(actor=a, inquiry=c["inquiry"], order=c["order"]),
    "handoff": lambda a, c: services.handoff_to_department(
        actor=a, inquiry=c["inquiry"], order=c["order"], department=Department.WAREHOUSE, summary="Look"
    ),
    "customer_adjust": lambda a, c: services.customer_adjust(actor=a, inquiry=c["inquiry"], city="Pune"),
    "call_log": lambda a, c: services.call_log(
        actor=a, inquiry=c["inquiry"], direction=CallDirection.INBOUND, outcome=CallOutcome.INFO_GIVEN
    ),
    "callback_promise": lambda a, c: services.callback_promise(
        actor=a, inquiry=c["inquiry"], due_at=NOW + dt.timedelta(hours=1)
    ),
    "callback_complete": lambda a, c: services.callback_complete(actor=a, callback=c["callback"]),
    "plan_step_add": lambda a, c: services.plan_step_add(actor=a, inquiry=c["inquiry"], title="More"),
    "plan_step_set_done": lambda a, c: services.plan_step_set_done(actor=a, step=c["step"]),
    "remedy_propose": lambda a, c: services.remedy_propose(
        actor=a, inquiry=c["inquiry"], kind=RemedyKind.INFORMATION, reason="FAQ"
    ),
    "remedy_decide": lambda a, c: services.remedy_decide(actor=a, remedy=c["remedy"], state=RemedyState.DECLINED),
}
#: Writes that do not look at the inquiry's tier: taking in what the customer sent.
INTAKE = {
    "inquiry_create": lambda a, c: services.inquiry_create(
        actor=a, customer=c["inquiry"].customer, subject="S", channel=Channel.EMAIL
    ),
    "message_receive": lambda a, c: services.message_receive(
        actor=a, inquiry=c["inquiry"], body="More", channel=Channel.EMAIL
    ),
}
ALL_WRITES = WRITES | INTAKE


def inactive_supervisor():
    return Actor.for_user(UserFactory(username="gone", tier=Tier.SUPERVISOR, is_active=False))


OUTSIDERS = {
    "api_reader": lambda: Actor.api_client(client_id=1, name="shop", scopes=frozenset({"read"})),
    "no_role": lambda: Actor.for_user(UserFactory(username="visitor", tier=None)),
    "inactive": inactive_supervisor,
}


@pytest.mark.parametrize("write", ALL_WRITES)
@pytest.mark.parametrize("who", OUTSIDERS)
def test_outsiders_may_write_nothing(case, who, write):
    actor = OUTSIDERS[who]()
    refused(case["inquiry"], PermissionDenied, lambda: ALL_WRITES[write](actor, case))


@pytest.mark.parametrize("write", WRITES)
def test_a_rep_cannot_work_a_specialist_tier_inquiry(case, rep, write):
    error = refused(case["inquiry"], PermissionDenied, lambda: WRITES[write](Actor.for_user(rep), case))
    assert "Specialist" in error.message


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize("who", ["specialist", "supervisor", "admin_user"])
def test_staff_at_or_above_the_tier_may_work_it(request, case, who, write):
    with clock.frozen(NOW):
        WRITES[write](Actor.for_user(request.getfixturevalue(who)), case)


@pytest.mark.parametrize("write", INTAKE)
def test_a_rep_may_take_in_customer_messages_at_any_tier(case, rep, write):
    INTAKE[write](Actor.for_user(rep), case)


@pytest.mark.parametrize("write", ["claim", "remedy_propose", "remedy_decide"])
def test_an_api_client_with_write_scope_may_not_claim_or_grant(case, api_writer, write):
    refused(case["inquiry"], PermissionDenied, lambda: WRITES[write](api_writer, case))


@pytest.mark.parametrize("write", ["reply_send", "note_add", "set_status", "call_log", "inquiry_create"])
def test_an_api_client_with_write_scope_may_do_the_rest(case, api_writer, write):
    with clock.frozen(NOW):
        ALL_WRITES[write](api_writer, case)


def test_a_rep_may_not_assign_at_all(rep):
    inquiry = InquiryFactory()
    error = refused(
        inquiry, PermissionDenied, lambda: services.inquiry_assign(actor=rep, inquiry=inquiry, assignee=rep)
    )
    assert "Senior rep" in error.message
