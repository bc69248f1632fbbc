"""The dashboard's order and people metrics (expedites, hot_spots, reps), checked against rows
worked out by hand. The range is 2 March 2026 in the desk's time zone (UTC unless overridden)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fulfillment import clock
from fulfillment.actors import Actor
from fulfillment.models import Team
from fulfillment.tiers import Tier
from inquiries.enums import Category, InquiryStatus
from inquiries.models import Inquiry
from orders import services as order_services
from orders.enums import Department
from orders.models import Order
from orders.services import LineInput
from reports.metrics import METRICS, Filters
from tests.factories import CustomerFactory, OrderFactory, UserFactory
from tests.inquiries.factories import InquiryFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
KOLKATA = zoneinfo.ZoneInfo("Asia/Kolkata")
NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
DAY = Filters(start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 2))
SYSTEM = Actor.system("test")


def at(day: int, hour: int = 0, minute: int = 0, tz=UTC) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=tz)


def compute(key: str, filters: Filters = DAY):
    with clock.frozen(NOW):
        return METRICS[key].compute(filters)


# --- expedites --------------------------------------------------------------------------------------


def expedited(shipped: dt.datetime | None, delivered: dt.datetime | None = None, *, ship_by=2, deliver_by=3) -> Order:
    """An expedited order promised to ship by 2 March and arrive by 3 March (days of March),
    shipped and delivered at the given times (``shipped`` None: not shipped)."""
    with clock.frozen(at(1)):
        order = OrderFactory(
            ship_by=dt.date(2026, 3, ship_by) if ship_by else None,
            deliver_by=dt.date(2026, 3, deliver_by) if deliver_by else None,
        )
    Order.objects.filter(pk=order.pk).update(expedite=True)
    if shipped is None:
        return order
    with clock.frozen(shipped):
        order = order_services.order_confirm(actor=SYSTEM, order=order)
        order = order_services.order_start_processing(actor=SYSTEM, order=order)
        order = order_services.order_pack(actor=SYSTEM, order=order)
        order_services.order_ship(actor=SYSTEM, order=order, carrier="DHL", tracking_number=f"T{order.pk}")
    if delivered:
        order.refresh_from_db()
        with clock.frozen(delivered):
            order_services.order_deliver(actor=SYSTEM, order=order)
    return order


def test_expedites_promises_kept_and_late():
    # promised to ship by 2 March (the range)
    expedited(at(1, 10))  # shipped the day before: on time
    expedited(at(2, 0))  # shipped on the day: on time
    expedited(at(3, 0, 30))  # shipped the day after: late
    expedited(None)  # not shipped, the day has passed (today is 20 March): late
    cancelled = expedited(None)
    with clock.frozen(at(1, 12)):
        order_services.order_cancel(actor=SYSTEM, order=cancelled, reason="Customer changed their mind")  # out
    expedited(at(2, 5), ship_by=None, deliver_by=None)  # no promised day: out
    expedited(at(4), ship_by=3, deliver_by=5)  # promised for the 3rd: out
    with clock.frozen(at(1)):
        OrderFactory(ship_by=dt.date(2026, 3, 2), deliver_by=dt.date(2026, 3, 2))  # not expedited: out
    # promised to arrive by 2 March (shipped by the 1st: that promise is out of the range)
    expedited(at(1, 1), at(2, 23, 59), ship_by=1, deliver_by=2)  # delivered on the day: on time
    expedited(at(1, 1), at(3, 0), ship_by=1, deliver_by=2)  # delivered the next day: late
    expedited(at(1, 1), ship_by=1, deliver_by=2)  # still on its way: late
    assert compute("expedites").rows == [
        ("Shipped by the promised day", 2, 2, 0),
        ("Delivered by the promised day", 1, 2, 0),
    ]


def test_expedites_not_yet_due_on_and_after_today():
    with clock.frozen(NOW):
        today = OrderFactory(ship_by=dt.date(2026, 3, 20), deliver_by=dt.date(2026, 3, 22))
        tomorrow = OrderFactory(ship_by=dt.date(2026, 3, 21), deliver_by=dt.date(2026, 3, 23))
        Order.objects.filter(pk__in=[today.pk, tomorrow.pk]).update(expedite=True)
    week = Filters(start=dt.date(2026, 3, 16), end=dt.date(2026, 3, 22))
    # ship-by today and tomorrow: not yet due; deliver-by the 22nd: not yet due (the 23rd: out)
    assert compute("expedites", week).rows == [
        ("Shipped by the promised day", 0, 0, 2),
        ("Delivered by the promised day", 0, 0, 1),
    ]


def test_expedites_count_the_local_day(settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    expedited(at(2, 23, 30, KOLKATA))  # the 2nd locally (18:00 UTC): shipped by the 2nd, on time
    expedited(at(3, 0, 30, KOLKATA))  # the 3rd locally (19:00 UTC on the 2nd): a day late
    assert compute("expedites").rows == [("Shipped by the promised day", 1, 1, 0)]


def test_expedites_without_data_is_empty():
    assert compute("expedites").rows == []


def test_expedites_one_order():
    expedited(at(2, 8))
    assert compute("expedites").rows == [("Shipped by the promised day", 1, 0, 0)]


# --- hot spots --------------------------------------------------------------------------------------


def order_of(*skus: str) -> Order:
    with clock.frozen(at(1)):
        return OrderFactory(
            customer=CustomerFactory(),
            lines=[LineInput(sku=s, description=s, quantity=1, unit_price=Decimal("5.00")) for s in skus],
        )


def opened(when: dt.datetime, **fields) -> Inquiry:
    if fields.get("orders"):
        fields["customer"] = fields["orders"][0].customer  # an inquiry links its customer's orders
    with clock.frozen(when):
        return InquiryFactory(**fields)


def handoff(when: dt.datetime, order: Order, department: str):
    with clock.frozen(when):
        order_services.handoff_create(actor=SYSTEM, order=order, department=department, summary="Look at it")


def test_hot_spots_by_category_product_and_department():
    both = order_of("KB-1", "MS-2")
    mouse = order_of("MS-2", "MS-2")  # the same sku twice: the inquiry counts once
    opened(at(2, 0), category=Category.BILLING, orders=[both])
    opened(at(2, 9), category=Category.DELIVERY, orders=[mouse])
    opened(at(2, 23, 59), category=Category.DELIVERY)
    opened(at(3, 0), category=Category.BILLING, orders=[both])  # at the end: out
    handoff(at(2, 5), both, Department.WAREHOUSE)
    handoff(at(2, 6), mouse, Department.BILLING)
    handoff(at(2, 7), mouse, Department.BILLING)
    handoff(at(1, 23), mouse, Department.RETURNS)  # the day before: out
    assert compute("hot_spots").rows == [
        ("Category: Delivery", 2),
        ("Category: Billing", 1),
        ("Product: MS-2", 2),
        ("Product: KB-1", 1),
        ("Department: Billing", 2),
        ("Department: Warehouse", 1),
    ]


def test_hot_spots_filtered_by_category_narrow_the_handoffs_too():
    both, mouse = order_of("KB-1"), order_of("MS-2")
    opened(at(2, 1), category=Category.BILLING, orders=[both])
    opened(at(2, 2), category=Category.DELIVERY, orders=[mouse])
    handoff(at(2, 5), both, Department.WAREHOUSE)
    handoff(at(2, 6), mouse, Department.BILLING)
    table = compute("hot_spots", Filters(DAY.start, DAY.end, category=Category.BILLING))
    assert table.rows == [("Category: Billing", 1), ("Product: KB-1", 1), ("Department: Warehouse", 1)]


def test_the_team_filter_reaches_orders_through_their_inquiries():
    chennai = Team.objects.create(name="Chennai")
    priya = UserFactory(username="priya", tier=Tier.REP, team=chennai)
    ours, theirs = order_of("KB-1"), order_of("MS-2")
    opened(at(2, 1), category=Category.BILLING, orders=[ours], assignee=priya)
    opened(at(2, 2), category=Category.BILLING, orders=[theirs])
    handoff(at(2, 5), ours, Department.WAREHOUSE)
    handoff(at(2, 6), theirs, Department.BILLING)
    Order.objects.filter(pk__in=[ours.pk, theirs.pk]).update(
        expedite=True, ship_by=dt.date(2026, 3, 2), deliver_by=dt.date(2026, 3, 4)
    )
    team = Filters(DAY.start, DAY.end, team=chennai.pk)
    assert compute("hot_spots", team).rows == [
        ("Category: Billing", 1),
        ("Product: KB-1", 1),
        ("Department: Warehouse", 1),
    ]
    assert compute("expedites", team).rows == [("Shipped by the promised day", 0, 1, 0)]  # not shipped: late
    assert compute("expedites").rows == [("Shipped by the promised day", 0, 2, 0)]


def test_hot_spots_count_the_local_day(settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    opened(at(2, 23, 30, KOLKATA), category=Category.BILLING)  # 18:00 UTC on the 2nd: in
    opened(at(3, 0, 30, KOLKATA), category=Category.BILLING)  # the 3rd locally: out
    opened(at(1, 23, 30, KOLKATA), category=Category.BILLING)  # the 1st locally: out
    assert compute("hot_spots").rows == [("Category: Billing", 1)]


def test_hot_spots_without_data_is_empty():
    assert compute("hot_spots").rows == []


# --- reps -------------------------------------------------------------------------------------------


def resolved(rep, opened_at: dt.datetime, resolved_at: dt.datetime) -> Inquiry:
    row = opened(opened_at, assignee=rep)
    Inquiry.objects.filter(pk=row.pk).update(status=InquiryStatus.RESOLVED, resolved_at=resolved_at)
    return row


def test_reps_handled_open_and_handling_hours():
    asha = UserFactory(username="asha", first_name="Asha", last_name="Rao", tier=Tier.REP)
    ben = UserFactory(username="ben", first_name="", last_name="", tier=Tier.REP)
    resolved(asha, at(1, 20), at(2, 0))  # 4 hours, resolved at the start: in
    resolved(asha, at(2, 1), at(2, 3))  # 2 hours
    resolved(asha, at(2, 1), at(3, 0))  # at the end: out
    opened(at(1, 9), assignee=asha)  # open now
    opened(at(1, 9), assignee=ben)  # open now
    opened(at(1, 9))  # unassigned: out
    assert compute("reps").rows == [("Asha Rao", 2, 1, 3.0), ("ben", 0, 1, None)]


def test_reps_without_data_is_empty():
    assert compute("reps").rows == []


# --- query counts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["expedites", "hot_spots", "reps"])
@pytest.mark.parametrize("filtered", [False, True])
def test_query_count_does_not_grow_with_the_data(key, filtered):
    rep = UserFactory(username="rep-q", tier=Tier.REP)
    filters = Filters(DAY.start, DAY.end, category=Category.DELIVERY) if filtered else DAY

    def add():
        order = expedited(at(2, 1), at(2, 2))
        order.refresh_from_db()
        resolved(rep, at(2, 1), at(2, 3))
        opened(at(2, 4), orders=[order])
        handoff(at(2, 5), order, Department.SHIPPING)

    add()
    with CaptureQueriesContext(connection) as small:
        compute(key, filters)
    for _ in range(3):
        add()
    with CaptureQueriesContext(connection) as large:
        compute(key, filters)
    assert len(large) == len(small)
