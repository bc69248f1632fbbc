"""factory_boy factories. Orders are made through the service, so they carry their timeline."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from fulfillment.actors import Actor
from fulfillment.tiers import Tier
from orders import services
from orders.models import Customer, phone_digits
from orders.services import LineInput

PASSWORD = "test-pass-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@desk.example")
    tier = Tier.REP
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    phone = factory.Sequence(lambda n: f"+1 555 {n:07d}")
    phone_digits = factory.LazyAttribute(lambda c: phone_digits(c.phone))
    address_line1 = "1 Main Street"
    city = "Chennai"
    country = "IN"


class OrderFactory(factory.Factory):
    """``OrderFactory(customer=…, lines=[…], ship_by=…)`` → an order in status *placed*."""

    class Meta:
        model = dict  # built by the service in _create

    customer = factory.SubFactory(CustomerFactory)
    lines = factory.LazyFunction(
        lambda: [
            LineInput(sku="KB-100", description="Keyboard", quantity=2, unit_price=Decimal("25.00")),
            LineInput(sku="MS-220", description="Mouse", quantity=1, unit_price=Decimal("10.50")),
        ]
    )
    currency = "USD"
    ship_by = None
    deliver_by = None
    source = ""
    external_ref = ""

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.order_create(actor=Actor.system("factory"), **kwargs)

    _build = _create
