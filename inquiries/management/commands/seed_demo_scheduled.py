"""Demo scheduled work on top of the demo staff, customers and inquiries: a resolved inquiry
whose follow-up call comes due a few minutes after `make run` starts, and an expedited order
that missed its ship-by date (the every-minute sweep flags it at risk, tells rep1 and proposes
a customer update). Everything goes through the services, at the times it would have happened.
Idempotent: a second run adds nothing. Refused under production settings, like seed_demo."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from fulfillment import clock
from fulfillment.actors import Actor
from inquiries import services
from inquiries.enums import Category, Channel, InquiryStatus, Priority
from inquiries.models import FollowUpCall, Inquiry
from inquiries.services.followups import delay_for
from orders import services as order_services
from orders.models import Customer
from orders.services import LineInput

TAG = "demo-scheduled"
#: The follow-up call comes due this long after the seed runs.
FOLLOW_UP_IN = dt.timedelta(minutes=3)
FOLLOW_UP_SUBJECT = "Replacement kettle arrived: follow-up call due"
AT_RISK_SUBJECT = "Gift order must arrive before the wedding"


class Command(BaseCommand):
    help = "Load demo scheduled work: a follow-up call due in minutes, an expedited order at risk."

    def add_arguments(self, parser):
        parser.add_argument("--i-know-this-is-not-production", action="store_true", dest="force")

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo_scheduled is refused under production settings (set DJANGO_DEBUG=1).")
        rep1 = get_user_model().objects.filter(username="rep1").first()
        customers = list(Customer.objects.filter(external_refs__source="demo").order_by("-pk")[:2])
        if rep1 is None or len(customers) < 2:
            raise CommandError("Run seed_demo first: it creates the demo staff and customers.")
        if Inquiry.objects.filter(tags__name=TAG).exists():
            self.stdout.write("Demo scheduled work already there: nothing added.")
            return
        now = clock.now()
        actor = Actor.for_user(rep1)
        with transaction.atomic():
            call = self._follow_up_due_soon(actor, customers[0], now)
            order = self._expedited_order_at_risk(actor, customers[1], now)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo scheduled work ready: a follow-up call for {call.inquiry.reference} due at "
                f"{call.due_at:%H:%M} UTC (rep1's calls due), expedited order {order.number} past its "
                "ship-by date (flagged at risk by the next sweep)."
            )
        )

    def _follow_up_due_soon(self, actor: Actor, customer: Customer, now: dt.datetime) -> FollowUpCall:
        """Resolved as long ago as the configured delay minus a few minutes: the call it
        scheduled then comes due a few minutes from now."""
        Customer.objects.filter(pk=customer.pk).update(no_follow_up_calls=False)
        delay = delay_for(category=Category.PRODUCT, priority=Priority.NORMAL)
        if delay is None:
            raise CommandError("No follow-up call delay applies to product inquiries: check the admin.")
        resolved_at = now + FOLLOW_UP_IN - dt.timedelta(minutes=delay.delay_minutes)
        with clock.frozen(resolved_at - dt.timedelta(hours=2)):
            inquiry = services.inquiry_create(
                actor=actor,
                customer=customer,
                subject=FOLLOW_UP_SUBJECT,
                channel=Channel.PHONE,
                category=Category.PRODUCT,
                priority=Priority.NORMAL,
                body="The kettle I was sent leaks from the base. I need one that works.",
                tags=[TAG],
            )
            services.inquiry_claim(actor=actor, inquiry=inquiry)
        with clock.frozen(resolved_at - dt.timedelta(minutes=30)):
            services.reply_send(
                actor=actor,
                inquiry=inquiry,
                body="A replacement kettle is on its way to you today. I will call you once it has arrived.",
            )
        with clock.frozen(resolved_at):
            services.inquiry_set_status(actor=actor, inquiry=inquiry, status=InquiryStatus.RESOLVED)
        return FollowUpCall.objects.select_related("inquiry").get(inquiry=inquiry)

    def _expedited_order_at_risk(self, actor: Actor, customer: Customer, now: dt.datetime):
        """Placed four days ago to ship within two, expedited yesterday, still not shipped."""
        today = clock.today()
        with clock.frozen(now - dt.timedelta(days=4)):
            order = order_services.order_create(
                actor=actor,
                customer=customer,
                lines=[
                    LineInput(
                        sku="GIFT-SET-01", description="Wedding gift set", quantity=1, unit_price=Decimal("89.00")
                    )
                ],
                ship_by=today - dt.timedelta(days=2),
                deliver_by=today + dt.timedelta(days=2),
            )
            order_services.order_confirm(actor=actor, order=order)
            inquiry = services.inquiry_create(
                actor=actor,
                customer=customer,
                subject=AT_RISK_SUBJECT,
                channel=Channel.EMAIL,
                category=Category.DELIVERY,
                priority=Priority.HIGH,
                body="The gift set has to arrive before the wedding on Saturday. Can you make sure it does?",
                orders=[order],
                tags=[TAG],
            )
            services.inquiry_claim(actor=actor, inquiry=inquiry)
            services.reply_send(
                actor=actor,
                inquiry=inquiry,
                body="I have asked our warehouse to send it first thing; I will keep you posted.",
            )
        with clock.frozen(now - dt.timedelta(days=1)):
            order_services.order_request_expedite(
                actor=actor, order=order, reason="Wedding gift: must arrive by Saturday", requested_by="the customer"
            )
        return order
