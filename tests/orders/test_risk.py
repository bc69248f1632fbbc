"""Orders at risk and expedite reminders (orders/services/work.py, status.py and the inquiries
reminders that act on them; docs/reminders.md): the sweep flags an order past its ship-by or
deliver-by date once, shipping / delivering / cancelling clears it, the at-risk job tells the rep
and proposes or sends the customer update; an expedited order reminds until it ships. Every time
is an injected clock."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from fulfillment import clock, scheduling
from fulfillment.actors import Actor
from fulfillment.errors import InvalidInput
from fulfillment.models import Job, JobState, Notification
from inquiries import services as inquiry_services
from inquiries.enums import EventType, UpdateMode
from inquiries.models import InquiryEvent, Message, ResponseTemplate, SchedulePolicy
from inquiries.services import reminders
from orders import services
from orders.enums import OrderEventType, OrderStatus, RiskReason
from orders.models import Order, OrderEvent

from ..factories import CustomerFactory, HandoffFactory, OrderFactory, UserFactory
from ..inquiries.factories import InquiryFactory
from ..inquiries.test_reminders import run

NOW = dt.datetime(2031, 3, 4, 10, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
SYSTEM = Actor.system("tests")


def sweep(at: dt.datetime) -> int:
    with clock.frozen(at):
        return reminders.flag_late_orders()


def order_events(order, type_) -> list[OrderEvent]:
    return list(OrderEvent.objects.filter(order=order, type=type_).order_by("id"))


def fresh(order) -> Order:
    return Order.objects.get(pk=order.pk)


@pytest.fixture
def late(customer):
    """Placed at NOW, to ship by tomorrow and reach the customer in four days."""
    with clock.frozen(NOW):
        return OrderFactory(customer=customer, ship_by=(NOW + DAY).date(), deliver_by=(NOW + 4 * DAY).date())


# --- the flag ------------------------------------------------------------------------------------


def test_an_order_not_shipped_by_its_date_is_flagged_once(late):
    assert sweep(NOW + DAY) == 0  # the ship-by day itself is still in time
    assert sweep(NOW + 2 * DAY) == 1
    assert sweep(NOW + 2 * DAY + HOUR) == 0
    order = fresh(late)
    assert (order.risk_flagged_at, order.risk_reason) == (NOW + 2 * DAY, RiskReason.NOT_SHIPPED)
    assert order.version == late.version + 1  # a change of the order: API clients see it move
    (event,) = order_events(order, OrderEventType.AT_RISK)
    assert (event.details, event.actor_kind) == (
        {"reason": "not_shipped", "date": (NOW + DAY).date().isoformat()},
        "system",
    )
    job = Job.objects.get(key=f"at-risk:{order.pk}:not_shipped")
    assert (job.kind, job.ref, job.payload) == (
        "inquiries.order_at_risk",
        f"order:{order.pk}",
        {"order": order.pk, "reason": "not_shipped"},
    )


def test_shipping_clears_not_shipped_and_the_deliver_by_date_flags_again(late):
    sweep(NOW + 2 * DAY)
    with clock.frozen(NOW + 2 * DAY + HOUR):
        services.order_confirm(actor=SYSTEM, order=late)
        services.order_ship(actor=SYSTEM, order=late, carrier="DHL", tracking_number="T1")
    order = fresh(late)
    assert (order.risk_flagged_at, order.risk_reason) == (None, "")
    (cleared,) = order_events(order, OrderEventType.RISK_CLEARED)
    assert cleared.details == {"reason": "not_shipped", "status": "shipped"}
    assert sweep(NOW + 4 * DAY) == 0
    assert sweep(NOW + 5 * DAY) == 1
    assert fresh(late).risk_reason == RiskReason.NOT_DELIVERED
    with clock.frozen(NOW + 5 * DAY + HOUR):
        services.order_deliver(actor=SYSTEM, order=late)
    assert fresh(late).risk_flagged_at is None
    assert [e.details["reason"] for e in order_events(late, OrderEventType.RISK_CLEARED)] == [
        "not_shipped",
        "not_delivered",
    ]


def test_an_order_past_both_dates_is_flagged_not_delivered_and_stays_so(late):
    sweep(NOW + 2 * DAY)
    assert sweep(NOW + 5 * DAY) == 1  # the deliver-by date passed too: the customer's date wins
    assert sweep(NOW + 6 * DAY) == 0  # and it does not flip back
    assert [e.details["reason"] for e in order_events(late, OrderEventType.AT_RISK)] == [
        "not_shipped",
        "not_delivered",
    ]
    # shipping does not end "not delivered"; cancelling would
    with clock.frozen(NOW + 6 * DAY):
        services.order_confirm(actor=SYSTEM, order=late)
        services.order_ship(actor=SYSTEM, order=late, carrier="DHL", tracking_number="T1")
    assert fresh(late).risk_reason == RiskReason.NOT_DELIVERED


@pytest.mark.parametrize("how", ["cancel", "hold_then_cancel"])
def test_cancelling_clears_the_flag(late, how):
    sweep(NOW + 2 * DAY)
    with clock.frozen(NOW + 3 * DAY):
        if how == "hold_then_cancel":
            services.order_hold(actor=SYSTEM, order=late, reason="stock check")
            assert fresh(late).risk_flagged_at is not None  # on hold is still not shipped
        services.order_cancel(actor=SYSTEM, order=late, reason="customer asked")
    assert fresh(late).risk_flagged_at is None
    assert order_events(late, OrderEventType.RISK_CLEARED)[0].details["status"] == "cancelled"


def test_orders_in_time_or_without_dates_are_not_flagged(customer):
    with clock.frozen(NOW):
        OrderFactory(customer=customer)
        OrderFactory(customer=customer, ship_by=(NOW + 5 * DAY).date())
        OrderFactory(customer=customer, ship_by=(NOW + DAY).date(), status=OrderStatus.SHIPPED)
    assert sweep(NOW + 3 * DAY) == 0
    assert not OrderEvent.objects.filter(type=OrderEventType.AT_RISK).exists()


def test_the_flag_service_rechecks_under_the_lock(late):
    with clock.frozen(NOW + DAY):  # not late yet
        assert services.order_flag_at_risk(actor=SYSTEM, order=late, reason=RiskReason.NOT_SHIPPED) is None
    with clock.frozen(NOW + 2 * DAY):
        assert services.order_flag_at_risk(actor=SYSTEM, order=late, reason=RiskReason.NOT_DELIVERED) is None
        assert services.order_flag_at_risk(actor=SYSTEM, order=late, reason=RiskReason.NOT_SHIPPED) is not None
        assert services.order_flag_at_risk(actor=SYSTEM, order=late, reason=RiskReason.NOT_SHIPPED) is None
    assert len(order_events(late, OrderEventType.AT_RISK)) == 1


def test_the_sweep_goes_in_batches(customer):
    with clock.frozen(NOW):
        orders = [OrderFactory(customer=customer, ship_by=(NOW + DAY).date()) for _ in range(3)]
    with clock.frozen(NOW + 2 * DAY):
        assert reminders.flag_late_orders(limit=2) == 2
        assert reminders.flag_late_orders(limit=2) == 1
        assert reminders.flag_late_orders(limit=2) == 0
    assert all(fresh(o).risk_reason == RiskReason.NOT_SHIPPED for o in orders)


# --- the at-risk job: the rep, the customer update -----------------------------------------------


def _policy(**fields):
    SchedulePolicy.objects.filter(pk=1).update(**fields)


@pytest.fixture
def talked_about(late, rep):
    """An active inquiry about ``late``, assigned to the rep and answered once (at NOW)."""
    with clock.frozen(NOW):
        inquiry = InquiryFactory(customer=late.customer, orders=[late], assignee=rep)
        inquiry_services.reply_send(actor=rep, inquiry=inquiry, body="We are on it.")
    return inquiry


def test_remind_proposes_the_delay_update_to_the_rep(late, talked_about, rep):
    _policy(at_risk_update=UpdateMode.REMIND)
    sweep(NOW + 2 * DAY)
    assert run(f"at-risk:{late.pk}:not_shipped", NOW + 2 * DAY) == JobState.DONE
    template = ResponseTemplate.objects.get(name="Order delayed", language="en")
    (notice,) = Notification.objects.filter(recipient=rep)
    assert notice.title == f"Order {late.number} is at risk: not shipped by {(NOW + DAY).date():%m/%d/%Y}"
    assert notice.url == f"/inquiries/{talked_about.pk}/?template={template.pk}#reply"
    (event,) = InquiryEvent.objects.filter(inquiry=talked_about, type=EventType.UPDATE_PROPOSED)
    assert event.details == {"why": "order_at_risk", "template": "Order delayed", "told": ["rep1"]}
    assert Message.objects.filter(inquiry=talked_about, kind="outbound").count() == 1  # only the rep's


@pytest.mark.parametrize(
    ("language", "words"), [("en", "is running late"), ("ta", "தாமதமாகியுள்ளது"), ("bn", "দেরি হচ্ছে")]
)
def test_auto_sends_the_delay_update_in_the_customers_language(
    rep, language, words, django_capture_on_commit_callbacks
):
    _policy(at_risk_update=UpdateMode.AUTO)
    customer = CustomerFactory(preferred_language=language)
    with clock.frozen(NOW):
        order = OrderFactory(customer=customer, ship_by=(NOW + DAY).date())
        inquiry = InquiryFactory(customer=customer, orders=[order], assignee=rep)
        inquiry_services.reply_send(actor=rep, inquiry=inquiry, body="We are on it.")
    sweep(NOW + 2 * DAY)
    with django_capture_on_commit_callbacks(execute=True):
        run(f"at-risk:{order.pk}:not_shipped", NOW + 2 * DAY)
    message = Message.objects.filter(inquiry=inquiry, kind="outbound").latest("id")
    assert words in message.body
    assert order.number in message.body and inquiry.reference in message.body
    assert message.author_name == "automatic update"
    (event,) = InquiryEvent.objects.filter(inquiry=inquiry, type=EventType.UPDATE_SENT)
    assert event.details == {"why": "order_at_risk", "template": "Order delayed"}
    assert any(customer.email in m.to for m in mail.outbox)
    assert Notification.objects.filter(recipient=rep).count() == 1  # the rep is told it went


def test_without_a_linked_inquiry_the_hand_off_owners_are_told(late):
    owner = UserFactory(username="warehouse1")
    with clock.frozen(NOW):
        HandoffFactory(order=late, owner=owner)
    sweep(NOW + 2 * DAY)
    run(f"at-risk:{late.pk}:not_shipped", NOW + 2 * DAY)
    (notice,) = Notification.objects.filter(recipient=owner)
    assert notice.url == f"/orders/{late.number}/"
    assert not InquiryEvent.objects.filter(type__in=[EventType.UPDATE_PROPOSED, EventType.UPDATE_SENT]).exists()


def test_a_flag_cleared_before_the_job_runs_leaves_nothing_to_do(late, talked_about, rep):
    sweep(NOW + 2 * DAY)
    with clock.frozen(NOW + 2 * DAY):
        services.order_cancel(actor=SYSTEM, order=late, reason="customer asked")
    assert run(f"at-risk:{late.pk}:not_shipped", NOW + 2 * DAY) == JobState.DONE
    assert not Notification.objects.exists()
    assert not InquiryEvent.objects.filter(type=EventType.UPDATE_PROPOSED).exists()


def test_a_retried_at_risk_job_sends_and_tells_once(late, talked_about, rep, monkeypatch):
    _policy(at_risk_update=UpdateMode.AUTO)
    sweep(NOW + 2 * DAY)
    key = f"at-risk:{late.pk}:not_shipped"
    real = reminders.tell
    calls = []

    def failing_tell(**kwargs):
        calls.append(kwargs["key"])
        real(**kwargs)
        raise RuntimeError("mail server hiccup")

    monkeypatch.setattr(reminders, "tell", failing_tell)
    assert run(key, NOW + 2 * DAY) == JobState.SCHEDULED
    monkeypatch.setattr(reminders, "tell", real)
    assert run(key, Job.objects.get(key=key).due_at) == JobState.DONE
    assert Message.objects.filter(inquiry=talked_about, author_name="automatic update").count() == 1
    assert InquiryEvent.objects.filter(inquiry=talked_about, type=EventType.UPDATE_SENT).count() == 1
    assert Notification.objects.filter(recipient=rep).count() == 1


# --- expedite reminders --------------------------------------------------------------------------


@pytest.fixture
def expedited(customer, rep):
    """An order asked to be expedited at NOW, with a hand-off to the warehouse (owned) and one to
    billing (nobody owns it yet), and an active inquiry about it assigned to the rep."""
    owner = UserFactory(username="warehouse1")
    with clock.frozen(NOW):
        order = OrderFactory(customer=customer)
        HandoffFactory(order=order, owner=owner)
        HandoffFactory(order=order, department="billing")
        InquiryFactory(customer=customer, orders=[order], assignee=rep)
        services.order_request_expedite(actor=rep, order=order, reason="birthday", requested_by="customer")
    return fresh(order)


def test_an_expedited_order_reminds_the_hand_off_owner_and_the_rep_every_few_hours(expedited, rep):
    start = Job.objects.get(key=f"expedite:{expedited.pk}:1:start")
    assert (start.kind, start.due_at, start.ref) == ("inquiries.expedite_reminder", NOW, f"order:{expedited.pk}")
    run(start.key, NOW)
    assert not Notification.objects.exists()  # the start only asks for the first reminder
    first = Job.objects.get(key=f"expedite:{expedited.pk}:2")
    assert first.due_at == NOW + 4 * HOUR

    run(first.key, NOW + 4 * HOUR)
    told = sorted(Notification.objects.values_list("recipient__username", flat=True))
    assert told == ["rep1", "warehouse1"]  # the billing hand-off has no owner: skipped
    assert Notification.objects.get(recipient=rep).url == f"/orders/{expedited.number}/"
    (event,) = order_events(expedited, OrderEventType.EXPEDITE_REMINDED)
    assert event.details == {"told": ["rep1", "warehouse1"], "number": 2}
    second = Job.objects.get(key=f"expedite:{expedited.pk}:3")
    assert second.due_at == NOW + 8 * HOUR


def test_expedite_reminders_stop_when_the_order_ships(expedited):
    run(f"expedite:{expedited.pk}:1:start", NOW)
    with clock.frozen(NOW + HOUR):
        services.order_confirm(actor=SYSTEM, order=expedited)
        services.order_ship(actor=SYSTEM, order=expedited, carrier="DHL", tracking_number="T1")
    assert run(f"expedite:{expedited.pk}:2", NOW + 4 * HOUR) == JobState.DONE
    assert not Notification.objects.exists()
    assert not Job.objects.filter(key=f"expedite:{expedited.pk}:3").exists()


def test_clearing_the_expedite_cancels_the_pending_reminder(expedited, rep):
    run(f"expedite:{expedited.pk}:1:start", NOW)
    with clock.frozen(NOW + HOUR):
        services.order_clear_expedite(actor=rep, order=expedited, reason="not needed")
    assert Job.objects.get(key=f"expedite:{expedited.pk}:2").state == JobState.CANCELLED
    assert scheduling.claim_due(now=NOW + 5 * HOUR) == []


def test_a_new_request_starts_a_new_chain_and_the_old_one_does_nothing(expedited, rep):
    run(f"expedite:{expedited.pk}:1:start", NOW)
    old = Job.objects.get(key=f"expedite:{expedited.pk}:2")
    scheduling.claim_due(now=old.due_at, ids=[old.pk])  # already handed to a worker: not cancellable
    with clock.frozen(NOW + HOUR):
        services.order_request_expedite(actor=rep, order=expedited, reason="still waiting", requested_by="customer")
    with clock.frozen(NOW + 4 * HOUR):  # the old chain's reminder arrives after the new request
        assert scheduling.run_job(old.pk) == JobState.DONE
    assert not Notification.objects.exists()
    assert not Job.objects.filter(key=f"expedite:{expedited.pk}:3").exists()
    # the new request's chain: start (number 2 counts both requests), then reminder 3
    run(f"expedite:{expedited.pk}:2:start", NOW + HOUR)
    assert Job.objects.get(key=f"expedite:{expedited.pk}:3").due_at == NOW + 5 * HOUR


def test_expedite_reminders_switched_off(expedited):
    SchedulePolicy.objects.filter(pk=1).update(expedite_reminder_hours=0)
    run(f"expedite:{expedited.pk}:1:start", NOW)
    assert Job.objects.filter(kind="inquiries.expedite_reminder").count() == 1


def test_a_refused_expedite_schedules_nothing(customer, rep):
    with clock.frozen(NOW):
        order = OrderFactory(customer=customer, status=OrderStatus.DELIVERED)
        with pytest.raises(InvalidInput):
            services.order_request_expedite(actor=rep, order=order, reason="x", requested_by="y")
    assert not Job.objects.exists()
