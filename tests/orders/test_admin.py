"""Admin smoke: every ModelAdmin opens; audited rows are read-only; customer edits use the service."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import reverse

from escalation.models import EscalationRule
from escalation.services import auto
from fulfillment import clock, webhooks
from fulfillment.actors import Actor
from fulfillment.api.auth import api_client_create
from fulfillment.models import Heartbeat, IdempotencyRecord, StaffSpecialty, Team
from inquiries import services as inquiry_services
from inquiries.models import InboundMail, PolicyRule, ResponseTemplate, ServicePolicy
from inquiries.services import targets
from orders import services
from orders.enums import CustomerEventType, OrderStatus
from orders.models import Customer, CustomerEvent, OrderEvent

from ..factories import HandoffFactory, OrderFactory

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.fixture
def everything(db, admin_user, specialist):
    """At least one row of every model the admin shows."""
    order = OrderFactory(status=OrderStatus.SHIPPED, paid="60.50", source="shop", external_ref="S-1")
    services.order_refund(actor=Actor.system(), order=order, amount="1.00", reason="Dent")
    HandoffFactory(order=order, owner=specialist)
    services.customer_add_external_ref(actor=Actor.system(), customer=order.customer, source="erp", external_ref="E1")
    StaffSpecialty.objects.create(user=specialist, specialty="billing")
    Heartbeat.objects.create(name="beat", at=clock.now())
    shop_front = api_client_create(name="shop-front", scopes=["read"])[0]
    webhooks.subscription_create(client=shop_front, url="https://shop.example/hooks")  # deliveries: the inquiries below
    IdempotencyRecord.objects.create(owner="client:1", key="k1", fingerprint="f" * 64, status_code=201)
    Group.objects.create(name="Leads")
    specialist.team = Team.objects.create(name="Chennai desk", lead=specialist)
    specialist.save(update_fields=["team"])
    InboundMail.objects.create(source="imap", raw=b"Subject: x\r\n\r\ny", size=15, state=InboundMail.State.FAILED)
    inquiry = inquiry_services.inquiry_create(
        actor=Actor.system(), customer=order.customer, subject="Dent", channel="email", body="A", tags=["dent"]
    )
    inquiry_services.callback_promise(actor=specialist, inquiry=inquiry, due_at=clock.now() + dt.timedelta(hours=1))
    # an automatic escalation and its rule firing, for the escalation admin's pages
    rule = EscalationRule.objects.get_or_create(name="First response breached", trigger="first_response_breached")[0]
    auto.fire(rule, auto.Breach(inquiry.pk, "first_response"), now=clock.now() + dt.timedelta(days=30))
    ResponseTemplate.objects.create(name="Thanks", body="Thank you, {first_name}.")
    done = inquiry_services.inquiry_create(
        actor=Actor.system(), customer=order.customer, subject="Done", channel="email", body="B"
    )
    inquiry_services.inquiry_set_status(actor=Actor.system(), inquiry=done, status="resolved")  # target records
    PolicyRule.objects.create(name="Phone", policy=ServicePolicy.objects.get(is_default=True), channel="phone")
    targets.rules_changed(actor=Actor.system())  # a recompute job
    return order


def _urls(model):
    info = (model._meta.app_label, model._meta.model_name)
    return reverse("admin:{}_{}_changelist".format(*info)), info


@pytest.mark.parametrize("model", [model for model, _ in REGISTERED], ids=lambda m: m._meta.label)
def test_every_changelist_and_change_page_opens(admin_client, everything, model):
    changelist, info = _urls(model)
    assert admin_client.get(changelist).status_code == 200
    if admin.site._registry[model].search_fields:
        assert admin_client.get(changelist, {"q": "a"}).status_code == 200

    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"the fixture makes a {model._meta.label}"
    change = reverse("admin:{}_{}_change".format(*info), args=[obj.pk])
    assert admin_client.get(change).status_code == 200


@pytest.mark.parametrize("model", [OrderEvent, CustomerEvent])
def test_timeline_events_cannot_be_added_changed_or_deleted(admin_user, model):
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.has_view_permission(request)


@pytest.mark.parametrize("model", [OrderEvent, CustomerEvent])
def test_posting_to_a_timeline_event_in_the_admin_is_refused(admin_client, everything, model):
    event = model.objects.order_by("pk").first()
    before = list(model.objects.order_by("pk").values())
    _changelist, info = _urls(model)

    add = admin_client.post(reverse("admin:{}_{}_add".format(*info)), {"actor_name": "x"})
    change = admin_client.post(reverse("admin:{}_{}_change".format(*info), args=[event.pk]), {"actor_name": "x"})
    delete = admin_client.post(reverse("admin:{}_{}_delete".format(*info), args=[event.pk]), {"post": "yes"})

    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    assert list(model.objects.order_by("pk").values()) == before


def _customer_form(customer, **changes):
    """The admin's customer form as posted: the fields, and the read-only references inline."""
    refs = list(customer.external_refs.order_by("pk")) if customer.pk else []
    data = {name: getattr(customer, name) for name in services.CUSTOMER_FIELDS}
    data.update(changes)
    data.update(
        {
            "external_refs-TOTAL_FORMS": str(len(refs)),
            "external_refs-INITIAL_FORMS": str(len(refs)),
            "external_refs-MIN_NUM_FORMS": "0",
            "external_refs-MAX_NUM_FORMS": "1000",
        }
    )
    for i, ref in enumerate(refs):
        data.update({f"external_refs-{i}-id": str(ref.pk), f"external_refs-{i}-customer": str(customer.pk)})
    return data


def test_a_customer_edit_in_the_admin_goes_through_the_service(admin_client, admin_user, everything):
    customer = everything.customer
    url = reverse("admin:orders_customer_change", args=[customer.pk])
    later = dt.datetime(2031, 5, 6, 7, 8, tzinfo=dt.UTC)
    version = Customer.objects.get(pk=customer.pk).version

    with clock.frozen(later):
        response = admin_client.post(url, _customer_form(customer, name="Edited In Admin", phone="+1 (555) 222-3333"))

    assert response.status_code == 302, response.content.decode()[:2000]
    customer.refresh_from_db()
    assert (customer.name, customer.phone_digits, customer.version, customer.updated_at) == (
        "Edited In Admin",
        "15552223333",
        version + 1,
        later,
    )
    event = customer.events.get(type=CustomerEventType.UPDATED)
    assert event.details["changes"]["name"][1] == "Edited In Admin"
    assert (event.actor_user, event.actor_name) == (admin_user, "admin")


def test_a_customer_added_in_the_admin_goes_through_the_service(admin_client, admin_user):
    response = admin_client.post(
        reverse("admin:orders_customer_add"), _customer_form(Customer(preferred_language="en"), name="New In Admin")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    customer = Customer.objects.get(name="New In Admin")
    assert customer.events.get().type == CustomerEventType.CREATED
    assert customer.events.get().actor_user == admin_user


def test_customers_cannot_be_deleted_in_the_admin(admin_client, customer):
    response = admin_client.post(reverse("admin:orders_customer_delete", args=[customer.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Customer.objects.filter(pk=customer.pk).exists()
