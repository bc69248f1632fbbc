"""customer_create, customer_update, customer_add_external_ref."""

from __future__ import annotations

import datetime as dt

import pytest

from fulfillment import clock
from fulfillment.actors import ActorKind
from fulfillment.errors import Conflict, InvalidInput
from orders import services
from orders.enums import CustomerEventType
from orders.models import Customer, CustomerEvent, CustomerExternalRef

from ..factories import CustomerFactory
from .helpers import customer_snapshot, world

LATER = dt.datetime(2031, 5, 6, 7, 8, tzinfo=dt.UTC)


def test_create_saves_the_customer_and_records_who_did_it(rep):
    with clock.frozen(LATER):
        customer = services.customer_create(
            actor=rep,
            name="  Lakshmi Iyer ",
            email="lakshmi@example.com",
            phone="+91 (44) 2345-6789",
            preferred_language="ta",
            preferred_channel="phone",
            country="in",
            external_refs=[("shop", "C-100"), ("erp", "9001")],
        )

    customer.refresh_from_db()
    assert customer.name == "Lakshmi Iyer"
    assert customer.phone_digits == "914423456789"
    assert customer.country == "IN"
    assert (customer.preferred_language, customer.preferred_channel) == ("ta", "phone")
    assert (customer.created_at, customer.version) == (LATER, 1)
    assert sorted(customer.external_refs.values_list("source", "external_ref")) == [("erp", "9001"), ("shop", "C-100")]
    events = list(customer.events.order_by("id"))
    assert [e.type for e in events] == [
        CustomerEventType.CREATED,
        CustomerEventType.EXTERNAL_REF_ADDED,
        CustomerEventType.EXTERNAL_REF_ADDED,
    ]
    assert events[1].details == {"source": "shop", "external_ref": "C-100"}
    assert {(e.actor_kind, e.actor_user, e.actor_name) for e in events} == {(ActorKind.USER, rep, "rep1")}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Ok", "email": "a" * 250 + "@x.io"}, "email"),
        ({"name": "Ok", "phone": "1" * 41}, "phone"),
        ({"name": "Ok", "preferred_language": "xx"}, "preferred_language"),
        ({"name": "Ok", "preferred_channel": "pigeon"}, "preferred_channel"),
        ({"name": "Ok", "notes": "n" * 5001}, "notes"),
        ({"name": "Ok", "country": "IND"}, "country"),
    ],
)
def test_create_refuses_bad_input_with_a_field_error(rep, data, field):
    before = world()
    with pytest.raises(InvalidInput) as refused:
        services.customer_create(actor=rep, **data)
    assert field in refused.value.field_errors
    assert world() == before


def test_create_with_a_reference_another_customer_has_creates_nothing(rep):
    other = CustomerFactory()
    services.customer_add_external_ref(actor=rep, customer=other, source="shop", external_ref="C-1")
    before = world()

    with pytest.raises(InvalidInput) as refused:
        services.customer_create(actor=rep, name="Twin", external_refs=[("shop", "C-1")])

    assert "external_ref" in refused.value.field_errors
    assert world() == before  # the customer row is rolled back with the reference


def test_update_records_old_and_new_values_and_moves_the_version(rep):
    customer = services.customer_create(actor=rep, name="Old Name", phone="555 0101", city="Delhi")
    with clock.frozen(LATER):
        services.customer_update(actor=rep, customer=customer, name="New Name", phone="+1 555 0199", city="Delhi")

    customer.refresh_from_db()
    assert (customer.name, customer.phone_digits, customer.version, customer.updated_at) == (
        "New Name",
        "15550199",
        2,
        LATER,
    )
    event = customer.events.get(type=CustomerEventType.UPDATED)
    assert event.details == {"changes": {"name": ["Old Name", "New Name"], "phone": ["555 0101", "+1 555 0199"]}}
    assert (event.actor_kind, event.actor_user) == (ActorKind.USER, rep)


def test_update_without_a_change_records_nothing(rep, customer):
    before = customer_snapshot(customer)
    services.customer_update(actor=rep, customer=customer, name=customer.name, city=customer.city)
    assert customer_snapshot(customer) == before


def test_update_with_a_stale_version_is_a_conflict(rep, customer):
    services.customer_update(actor=rep, customer=customer, name="Someone else saved")
    before = customer_snapshot(customer)

    with pytest.raises(Conflict):
        services.customer_update(actor=rep, customer=customer, expected_version=1, name="Mine")

    assert customer_snapshot(customer) == before
    services.customer_update(actor=rep, customer=customer, expected_version=2, name="Mine")
    assert Customer.objects.get(pk=customer.pk).name == "Mine"


def test_update_refuses_an_empty_name(rep, customer):
    before = customer_snapshot(customer)
    with pytest.raises(InvalidInput) as refused:
        services.customer_update(actor=rep, customer=customer, name=" ")
    assert "name" in refused.value.field_errors
    assert customer_snapshot(customer) == before


def test_external_ref_is_added_with_its_event(rep, customer):
    row = services.customer_add_external_ref(actor=rep, customer=customer, source=" erp ", external_ref=" E-7 ")
    assert (row.source, row.external_ref) == ("erp", "E-7")
    event = customer.events.get(type=CustomerEventType.EXTERNAL_REF_ADDED)
    assert event.details == {"source": "erp", "external_ref": "E-7"}


def test_the_same_reference_may_exist_in_two_sources(rep, customer):
    services.customer_add_external_ref(actor=rep, customer=customer, source="erp", external_ref="7")
    services.customer_add_external_ref(actor=rep, customer=CustomerFactory(), source="shop", external_ref="7")
    assert CustomerExternalRef.objects.filter(external_ref="7").count() == 2


def test_a_duplicate_reference_is_refused_and_changes_nothing(rep, customer):
    services.customer_add_external_ref(actor=rep, customer=customer, source="erp", external_ref="E-7")
    other = CustomerFactory()
    before = world()

    with pytest.raises(InvalidInput) as refused:
        services.customer_add_external_ref(actor=rep, customer=other, source="erp", external_ref="E-7")

    assert "erp" in str(refused.value.field_errors["external_ref"][0])
    assert world() == before


@pytest.mark.parametrize(
    ("source", "ref", "field"),
    [
        ("", "E-1", "source"),
        ("erp", "", "external_ref"),
        ("s" * 41, "E-1", "source"),
        ("erp", "r" * 101, "external_ref"),
    ],
)
def test_an_empty_or_overlong_reference_is_refused(rep, customer, source, ref, field):
    before = customer_snapshot(customer)
    with pytest.raises(InvalidInput) as refused:
        services.customer_add_external_ref(actor=rep, customer=customer, source=source, external_ref=ref)
    assert field in refused.value.field_errors
    assert customer_snapshot(customer) == before
    assert not CustomerEvent.objects.filter(customer=customer, type=CustomerEventType.EXTERNAL_REF_ADDED).exists()
