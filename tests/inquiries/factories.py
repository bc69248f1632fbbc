"""factory_boy factories for inquiries. Inquiries are made through ``inquiry_create`` (and moved
through ``inquiry_set_status``), so every row carries its timeline like a real one."""

from __future__ import annotations

from decimal import Decimal

import factory

from fulfillment.actors import Actor
from inquiries import services
from inquiries.enums import Category, Channel, InquiryStatus, Priority
from inquiries.models import Inquiry, ResponseTemplate
from orders.services import LineInput

from ..factories import CustomerFactory, OrderFactory

FACTORY_ACTOR = Actor.system("factory")


class InquiryFactory(factory.Factory):
    """``InquiryFactory(customer=…, body=…)`` → a *new* inquiry with its first message.

    ``status="resolved"`` moves it on through ``inquiry_set_status``; ``assignee=user`` claims it
    for that user; ``tier=Tier.SPECIALIST`` puts it at that tier (no service moves tiers until
    the escalation issue, so the factory writes the column).
    """

    class Meta:
        model = dict  # built by the service in _create

    customer = factory.SubFactory(CustomerFactory)
    subject = factory.Sequence(lambda n: f"Where is my parcel {n}?")
    channel = Channel.EMAIL
    category = Category.DELIVERY
    priority = Priority.NORMAL
    body = "Hello, my parcel has not arrived yet."
    orders = ()

    @classmethod
    def _create(
        cls, model_class, *, status=InquiryStatus.NEW, tier=None, assignee=None, actor=FACTORY_ACTOR, **kwargs
    ) -> Inquiry:
        inquiry = services.inquiry_create(actor=actor, **kwargs)
        if tier is not None:
            Inquiry.objects.filter(pk=inquiry.pk).update(tier=tier)
        if assignee is not None:
            services.inquiry_assign(actor=FACTORY_ACTOR, inquiry=inquiry, assignee=assignee)
        if status != InquiryStatus.NEW:
            services.inquiry_set_status(actor=FACTORY_ACTOR, inquiry=inquiry, status=status)
        inquiry.refresh_from_db()
        return inquiry

    _build = _create


class ResponseTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ResponseTemplate

    name = factory.Sequence(lambda n: f"template-{n}")
    language = "en"
    body = "Your order {order_number} is on its way."


def paid_order(customer, amount: str = "500.00", *, paid: str | None = None):
    """An order of one line worth ``amount``, paid in full (or ``paid``)."""
    return OrderFactory(
        customer=customer,
        lines=[LineInput(sku="TV-900", description="Television", quantity=1, unit_price=Decimal(amount))],
        paid=Decimal(paid or amount),
    )
