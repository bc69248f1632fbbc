"""Every service checks the actor itself: the refused change nothing, the allowed are on the timeline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fulfillment import clock
from fulfillment.actors import Actor, ActorKind, as_actor
from fulfillment.errors import PermissionDenied
from orders import services
from orders.enums import HandoffState, OrderStatus, RiskReason, ShipmentStatus
from orders.models import CustomerEvent, OrderEvent
from orders.services import LineInput

from ..factories import CustomerFactory, HandoffFactory, OrderFactory
from .helpers import world

LATER = dt.datetime(2031, 5, 6, 7, 8, tzinfo=dt.UTC)


def _customer_create():
    return None, lambda actor: services.customer_create(
        actor=actor, name="Ada Lovelace", external_refs=[("shop", "C-1")]
    )


def _customer_create_many():
    people = [(("shop", f"C-{n}"), {"name": f"Person {n}", "phone": f"+1 555 000 00{n}"}) for n in range(3)]
    return None, lambda actor: services.customer_create_many(actor=actor, customers=people)


def _customer_update():
    customer = CustomerFactory()
    return customer, lambda actor: services.customer_update(actor=actor, customer=customer, name="Renamed")


def _customer_add_external_ref():
    customer = CustomerFactory()
    return customer, lambda actor: services.customer_add_external_ref(
        actor=actor, customer=customer, source="erp", external_ref="E-1"
    )


def _order_create():
    customer = CustomerFactory()
    line = LineInput(sku="KB-100", quantity=1, unit_price=Decimal("1.00"))
    return None, lambda actor: services.order_create(actor=actor, customer=customer, lines=[line])


def _order_create_many():
    customer = CustomerFactory()
    line = LineInput(sku="KB-100", quantity=1, unit_price=Decimal("1.00"))
    specs = [{"customer": customer, "lines": [line], "source": "shop", "external_ref": f"B-{n}"} for n in range(3)]
    return None, lambda actor: services.order_create_many(actor=actor, orders=specs)


def _order_update_details():
    order = OrderFactory()
    return order, lambda actor: services.order_update_details(actor=actor, order=order, ship_by=dt.date(2030, 1, 1))


def _order_replace_lines():
    order = OrderFactory()
    line = LineInput(sku="NEW-1", quantity=3, unit_price=Decimal("2.00"))
    return order, lambda actor: services.order_replace_lines(actor=actor, order=order, lines=[line])


def _transition(status, call):
    def prepare():
        order = OrderFactory(status=status)
        return order, lambda actor: call(actor, order)

    return prepare


def _shipment_update_status():
    order = OrderFactory(status=OrderStatus.SHIPPED)
    shipment = order.shipments.get()
    return order, lambda actor: services.shipment_update_status(
        actor=actor, shipment=shipment, status=ShipmentStatus.OUT_FOR_DELIVERY
    )


def _order_record_payment():
    order = OrderFactory()
    return order, lambda actor: services.order_record_payment(actor=actor, order=order, amount="10.00")


def _order_refund():
    order = OrderFactory(paid="60.50")
    return order, lambda actor: services.order_refund(actor=actor, order=order, amount="10.00", reason="Scratched")


def _order_request_expedite():
    order = OrderFactory()
    return order, lambda actor: services.order_request_expedite(
        actor=actor, order=order, reason="Trip", requested_by="me"
    )


def _order_clear_expedite():
    order = OrderFactory()
    services.order_request_expedite(actor=Actor.system(), order=order, reason="Trip", requested_by="customer")
    return order, lambda actor: services.order_clear_expedite(actor=actor, order=order)


def _order_expedite_reminded():
    order = OrderFactory()
    services.order_request_expedite(actor=Actor.system(), order=order, reason="Trip", requested_by="customer")
    return order, lambda actor: services.order_expedite_reminded(actor=actor, order=order, told=["rep1"], n=2)


def _order_flag_at_risk():
    today = clock.today()
    order = OrderFactory(ship_by=today - dt.timedelta(days=2))  # not shipped by its date
    return order, lambda actor: services.order_flag_at_risk(actor=actor, order=order, reason=RiskReason.NOT_SHIPPED)


def _order_add_note():
    order = OrderFactory()
    return order, lambda actor: services.order_add_note(actor=actor, order=order, text="Called the customer")


def _handoff_create():
    order = OrderFactory()
    return order, lambda actor: services.handoff_create(actor=actor, order=order, department="billing", summary="Check")


def _handoff_set_state():
    handoff = HandoffFactory()
    return handoff.order, lambda actor: services.handoff_set_state(
        actor=actor, handoff=handoff, state=HandoffState.IN_PROGRESS
    )


#: Every public service of orders/services.py, set up so that a permitted actor succeeds:
#: name → prepare() → (the order or customer it changes, or None for a create; call(actor)).
SERVICES = {
    "customer_create": _customer_create,
    "customer_create_many": _customer_create_many,
    "customer_update": _customer_update,
    "customer_add_external_ref": _customer_add_external_ref,
    "order_create": _order_create,
    "order_create_many": _order_create_many,
    "order_update_details": _order_update_details,
    "order_replace_lines": _order_replace_lines,
    "order_confirm": _transition(OrderStatus.PLACED, lambda a, o: services.order_confirm(actor=a, order=o)),
    "order_start_processing": _transition(
        OrderStatus.CONFIRMED, lambda a, o: services.order_start_processing(actor=a, order=o)
    ),
    "order_pack": _transition(OrderStatus.PROCESSING, lambda a, o: services.order_pack(actor=a, order=o)),
    "order_ship": _transition(
        OrderStatus.PACKED, lambda a, o: services.order_ship(actor=a, order=o, carrier="DHL", tracking_number="T1")
    ),
    "order_deliver": _transition(OrderStatus.SHIPPED, lambda a, o: services.order_deliver(actor=a, order=o)),
    "order_hold": _transition(OrderStatus.PLACED, lambda a, o: services.order_hold(actor=a, order=o, reason="Why")),
    "order_release": _transition(OrderStatus.ON_HOLD, lambda a, o: services.order_release(actor=a, order=o)),
    "order_cancel": _transition(OrderStatus.PLACED, lambda a, o: services.order_cancel(actor=a, order=o, reason="Why")),
    "order_mark_returned": _transition(
        OrderStatus.DELIVERED, lambda a, o: services.order_mark_returned(actor=a, order=o, reason="Why")
    ),
    "shipment_update_status": _shipment_update_status,
    "order_record_payment": _order_record_payment,
    "order_refund": _order_refund,
    "order_request_expedite": _order_request_expedite,
    "order_clear_expedite": _order_clear_expedite,
    "order_expedite_reminded": _order_expedite_reminded,
    "order_flag_at_risk": _order_flag_at_risk,
    "order_add_note": _order_add_note,
    "handoff_create": _handoff_create,
    "handoff_set_state": _handoff_set_state,
}


def test_the_matrix_covers_every_public_service():
    public = {
        name
        for name, value in vars(services).items()
        if callable(value)
        and not name.startswith("_")
        and getattr(value, "__module__", "").startswith(services.__name__ + ".")
    }
    public -= {"LineInput"}
    assert public == set(SERVICES)


@pytest.fixture
def actor_named(request):
    """'rep' → the rep user, 'api_reader' → the read-only API client, and so on."""

    def get(name):
        return {
            "no_tier": lambda: request.getfixturevalue("no_role_user"),
            "inactive": lambda: request.getfixturevalue("inactive_user"),
            "api_read_only": lambda: request.getfixturevalue("api_reader"),
            "api_writer": lambda: request.getfixturevalue("api_writer"),
            "system": lambda: request.getfixturevalue("system"),
            "rep": lambda: request.getfixturevalue("rep"),
            "senior": lambda: request.getfixturevalue("senior"),
        }[name]()

    return get


REFUSED = [(service, who) for service in SERVICES for who in ("no_tier", "inactive", "api_read_only")]
REFUSED.append(("order_refund", "rep"))


@pytest.mark.parametrize(("service", "who"), REFUSED, ids=[f"{s}-{w}" for s, w in REFUSED])
def test_a_refused_actor_changes_nothing(db, actor_named, service, who):
    _subject, call = SERVICES[service]()
    actor = actor_named(who)
    before = world()

    with pytest.raises(PermissionDenied):
        call(actor)

    assert world() == before


ALLOWED = [(service, who) for service in SERVICES for who in ("rep", "api_writer", "system")]
ALLOWED = [("order_refund", "senior") if pair == ("order_refund", "rep") else pair for pair in ALLOWED]


@pytest.mark.parametrize(("service", "who"), ALLOWED, ids=[f"{s}-{w}" for s, w in ALLOWED])
def test_an_allowed_actor_is_recorded_on_every_new_event(db, actor_named, service, who):
    _subject, call = SERVICES[service]()
    actor = as_actor(actor_named(who))
    order_events = set(OrderEvent.objects.values_list("pk", flat=True))
    customer_events = set(CustomerEvent.objects.values_list("pk", flat=True))

    call(actor_named(who))

    new = [
        *OrderEvent.objects.exclude(pk__in=order_events),
        *CustomerEvent.objects.exclude(pk__in=customer_events),
    ]
    assert new, "every service records at least one timeline event"
    expected_user = actor.user if actor.kind == ActorKind.USER else None
    for event in new:
        assert (event.actor_kind, event.actor_user, event.actor_name) == (actor.kind, expected_user, actor.name)


def test_a_rep_is_told_that_refunds_need_a_senior_rep(rep):
    order = OrderFactory(paid="60.50")
    with pytest.raises(PermissionDenied) as refused:
        services.order_refund(actor=rep, order=order, amount="1.00", reason="Dent")
    assert "Senior rep" in str(refused.value.message)


@pytest.mark.parametrize("tier_user", ["senior", "specialist", "supervisor", "admin_user"])
def test_senior_reps_and_above_may_refund(request, tier_user):
    user = request.getfixturevalue(tier_user)
    order = OrderFactory(paid="60.50")
    services.order_refund(actor=user, order=order, amount="1.00", reason="Dent")
    order.refresh_from_db()
    assert order.refunded_amount == Decimal("1.00")


CHANGES = [name for name in SERVICES if not name.endswith(("_create", "_create_many")) or name == "handoff_create"]


@pytest.mark.parametrize("service", CHANGES)
def test_every_change_moves_the_version_by_one_and_stamps_updated_at(db, system, service):
    subject, call = SERVICES[service]()
    model = type(subject)
    version = model.objects.get(pk=subject.pk).version

    with clock.frozen(LATER):
        call(system)

    row = model.objects.get(pk=subject.pk)
    assert (row.version, row.updated_at) == (version + 1, LATER)
