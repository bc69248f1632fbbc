"""Demo inquiries and response templates on top of ``seed_demo``'s staff, customers and orders.
Idempotent: a second run adds nothing. Refused under production settings, like seed_demo."""

from __future__ import annotations

import datetime as dt
import random

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from fulfillment import clock
from fulfillment.actors import Actor
from inquiries import services
from inquiries.enums import CallDirection, CallOutcome, Category, Channel, InquiryStatus, Priority, RemedyKind
from inquiries.models import (
    BusinessCalendar,
    Inquiry,
    OpeningHours,
    PolicyRule,
    PolicyTarget,
    ResponseTemplate,
    ServicePolicy,
)
from orders.enums import CustomerTier
from orders.models import Customer

TEMPLATES = [
    (
        "Order on its way",
        "order_status",
        "Thank you for asking about order {order_number}. It is on its way, and I will keep an eye on it "
        "until it reaches you. Your reference for this conversation is {reference}.",
    ),
    (
        "Delivery delay apology",
        "delivery",
        "I am sorry that order {order_number} has not reached you yet. I have asked our shipping team to "
        "look into it today, and I will write to you again by tomorrow with what they find.",
    ),
    (
        "Refund confirmation",
        "billing",
        "I have arranged your refund for order {order_number}. It usually appears on your statement within "
        "five working days.",
    ),
    (
        "Need more details",
        "",
        "To help you quickly, could you tell me the order number and, if something arrived damaged, send a "
        "photo of it in reply to this message?",
    ),
]

STORIES = [
    # subject, channel, category, priority, customer's words, status, assign to
    (
        "Where is my parcel?",
        Channel.PHONE,
        Category.ORDER_STATUS,
        Priority.NORMAL,
        "Ordered last week, tracking has not moved for three days.",
        InquiryStatus.OPEN,
        "rep1",
    ),
    (
        "Box arrived crushed",
        Channel.EMAIL,
        Category.PRODUCT,
        Priority.HIGH,
        "The blender jar is cracked. Photos attached. I need it before the weekend.",
        InquiryStatus.NEW,
        None,
    ),
    (
        "Charged twice",
        Channel.EMAIL,
        Category.BILLING,
        Priority.URGENT,
        "My card shows two payments for the same order.",
        InquiryStatus.NEW,
        None,
    ),
    (
        "Change delivery address",
        Channel.WEB,
        Category.ACCOUNT_CHANGE,
        Priority.NORMAL,
        "We moved last month, please send to the new flat.",
        InquiryStatus.WAITING_CUSTOMER,
        "rep2",
    ),
    (
        "Letter about a late gift",
        Channel.LETTER,
        Category.DELIVERY,
        Priority.NORMAL,
        "The present for my granddaughter did not arrive for her birthday.",
        InquiryStatus.OPEN,
        "rep1",
    ),
    (
        "How do I set up the kettle timer?",
        Channel.PHONE,
        Category.TECHNICAL,
        Priority.LOW,
        "The manual is only in English; my mother reads Tamil.",
        InquiryStatus.RESOLVED,
        "rep2",
    ),
    (
        "Return the wrong size",
        Channel.WEB,
        Category.RETURN,
        Priority.NORMAL,
        "The shoes are a size too small.",
        InquiryStatus.WAITING_DEPARTMENT,
        "senior1",
    ),
    (
        "Unhappy with the wait",
        Channel.PHONE,
        Category.COMPLAINT,
        Priority.HIGH,
        "Third time I am calling about the same order.",
        InquiryStatus.OPEN,
        None,
    ),
    (
        "Invoice copy",
        Channel.EMAIL,
        Category.BILLING,
        Priority.LOW,
        "Please send a copy of the invoice for my company.",
        InquiryStatus.NEW,
        None,
    ),
    (
        "Missing item in the box",
        Channel.EMAIL,
        Category.DELIVERY,
        Priority.HIGH,
        "Only two of the three mugs were in the parcel.",
        InquiryStatus.OPEN,
        "rep1",
    ),
    (
        "Product question",
        Channel.WEB,
        Category.PRODUCT,
        Priority.NORMAL,
        "Is the rice cooker suitable for 220 V?",
        InquiryStatus.NEW,
        None,
    ),
    (
        "Thank you note",
        Channel.LETTER,
        Category.OTHER,
        Priority.LOW,
        "Your colleague was very kind on the phone.",
        InquiryStatus.CLOSED,
        "rep1",
    ),
]


#: Demo inquiries that arrived a while ago, so the queues show targets at risk and breached.
AGES = {
    "Invoice copy": dt.timedelta(days=3),  # low priority, nobody answered: breached
    "Unhappy with the wait": dt.timedelta(hours=5),
    "Product question": dt.timedelta(minutes=50),  # a VIP customer, 24/7 targets: at risk
}
#: Customers of these demo inquiries are VIPs: a rule gives them the "Priority customers" policy.
VIP_SUBJECTS = {"Product question", "Missing item in the box"}


def seed_service_targets() -> None:
    """A second calendar and policy next to the defaults of migration 0006, and the rule that
    chooses it: VIP customers get round-the-clock targets."""
    calendar, created = BusinessCalendar.objects.get_or_create(
        name="Around the clock", defaults={"team": "Priority desk", "time_zone": settings.TIME_ZONE}
    )
    if created:
        OpeningHours.objects.bulk_create(
            OpeningHours(calendar=calendar, weekday=day, opens=dt.time(0), closes=dt.time(0)) for day in range(7)
        )
    policy, created = ServicePolicy.objects.get_or_create(
        name="Priority customers",
        defaults={"calendar": calendar, "description": "VIP customers: answered within the hour, day or night."},
    )
    if created:
        PolicyTarget.objects.bulk_create(
            PolicyTarget(
                policy=policy, priority=p, first_response_minutes=fr, next_reply_minutes=nr, resolution_minutes=res
            )
            for p, (fr, nr, res) in {
                Priority.URGENT: (15, 15, 240),
                Priority.HIGH: (30, 30, 480),
                Priority.NORMAL: (60, 60, 1440),
                Priority.LOW: (120, 120, 2880),
            }.items()
        )
    PolicyRule.objects.get_or_create(
        name="VIP customers", defaults={"position": 10, "policy": policy, "customer_tier": CustomerTier.VIP}
    )


class Command(BaseCommand):
    help = "Create demo inquiries and response templates (after seed_demo). Safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument("--i-know-this-is-not-production", action="store_true", dest="force")

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo_inquiries is refused under production settings (set DJANGO_DEBUG=1).")
        users = {u.username: u for u in get_user_model().objects.filter(username__in=["rep1", "rep2", "senior1"])}
        if len(users) < 3:
            raise CommandError("Run seed_demo first: it creates the demo staff and customers.")
        made_templates = 0
        for name, category, body in TEMPLATES:
            _row, created = ResponseTemplate.objects.get_or_create(
                name=name, language="en", defaults={"category": category, "body": body}
            )
            made_templates += created
        if Inquiry.objects.filter(tags__name="demo").exists():
            self.stdout.write("Demo inquiries already there: nothing added.")
            return
        customers = list(Customer.objects.filter(external_refs__source="demo").prefetch_related("orders")[:40])
        if not customers:
            raise CommandError("No demo customers: run seed_demo first.")
        rng = random.Random("demo-inquiries")
        now = clock.now()
        with transaction.atomic():
            seed_service_targets()
            for index, story in enumerate(STORIES):
                customer = customers[index % len(customers)]
                if story[0] in VIP_SUBJECTS:
                    Customer.objects.filter(pk=customer.pk).update(tier=CustomerTier.VIP)
                    customer.refresh_from_db()
                with clock.frozen(now - AGES.get(story[0], dt.timedelta(0))):
                    self._story(rng, customer, users, *story)
        self.stdout.write(
            self.style.SUCCESS(f"Demo inquiries ready: {len(STORIES)} inquiries, {made_templates} new templates.")
        )

    def _story(self, rng, customer, users, subject, channel, category, priority, words, status, assignee):
        actor = Actor.for_user(users[assignee]) if assignee else Actor.system("demo")
        orders = list(customer.orders.all()[:1])
        inquiry = services.inquiry_create(
            actor=actor,
            customer=customer,
            subject=subject,
            channel=channel,
            category=category,
            priority=priority,
            body=words,
            orders=orders,
            tags=["demo"],
            received_on=clock.today() - dt.timedelta(days=2) if channel == Channel.LETTER else None,
        )
        if assignee is None:
            return
        if channel == Channel.PHONE:
            services.call_log(
                actor=actor,
                inquiry=inquiry,
                direction=CallDirection.INBOUND,
                outcome=CallOutcome.CALLBACK if status == InquiryStatus.OPEN else CallOutcome.INFO_GIVEN,
                duration_seconds=rng.randint(60, 900),
                notes=words,
                callback_due_at=clock.now() + dt.timedelta(hours=rng.randint(1, 6))
                if status == InquiryStatus.OPEN
                else None,
            )
        services.inquiry_claim(actor=actor, inquiry=inquiry)
        if status == InquiryStatus.OPEN and orders and category == Category.DELIVERY:
            services.plan_step_add(actor=actor, inquiry=inquiry, title="Ask the warehouse to trace the parcel")
            services.plan_step_add(
                actor=actor,
                inquiry=inquiry,
                title="Call the customer with the result",
                due_date=clock.today() + dt.timedelta(days=1),
            )
            services.remedy_propose(
                actor=actor,
                inquiry=inquiry,
                kind=RemedyKind.REPLACEMENT,
                order=orders[0],
                reason="Parcel lost in transit",
            )
        if status in (InquiryStatus.OPEN, InquiryStatus.NEW):
            return
        services.reply_send(
            actor=actor, inquiry=inquiry, body="Thank you for getting in touch. I am looking into this for you."
        )
        if status != InquiryStatus.OPEN:
            services.inquiry_set_status(actor=actor, inquiry=inquiry, status=status)
