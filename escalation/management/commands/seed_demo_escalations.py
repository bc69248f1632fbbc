"""Demo escalations on top of ``seed_demo`` (staff, customers, orders) and ``seed_demo_inquiries``.

Switches on the four example automatic-escalation rules and adds six demo inquiries (tagged
``demo`` and ``escalation-demo``) that show the ladder, each moved by the same services the desk
uses, a little in the past so the queues show time at each tier:

- waiting for a senior rep (senior1's review queue), the customer told in their language;
- sent straight to a supervisor with a reason for skipping two tiers (supervisor1's queue);
- climbed to a senior rep, who took it over and sent it on to the billing specialists;
- returned to rep1 with a coaching note;
- two approval requests: rep1's refund above a rep's limit (for a senior rep) and senior1's
  goodwill credit above a senior rep's limit (for a specialist).

Idempotent: a second run adds and changes nothing. Refused under production settings, like
``seed_demo``.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F
from django.urls import reverse

from escalation import services
from escalation.enums import Reason
from escalation.models import EscalationRule
from escalation.services import set_rules_active
from fulfillment import clock
from fulfillment.actors import Actor
from fulfillment.tiers import Tier
from inquiries import services as inquiry_services
from inquiries.enums import Category, Channel, Priority, RemedyKind
from inquiries.models import AuthorityLimit, Inquiry
from orders.models import Customer, Order

TAG = "escalation-demo"
STAFF = ("rep1", "rep2", "senior1", "specialist1", "supervisor1")
#: The example rules of migration 0002 (written there switched off).
EXAMPLE_RULES = [
    rule["name"] for rule in importlib.import_module("escalation.migrations.0002_notice_templates_example_rules").RULES
] + [importlib.import_module("escalation.migrations.0004_follow_up_missed_rule").RULE["name"]]
HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Story:
    subject: str
    channel: str
    category: str
    priority: int
    words: str


WANTS_SENIOR = Story(
    "Third delivery date missed: wants someone senior",
    Channel.EMAIL,
    Category.DELIVERY,
    Priority.HIGH,
    "This is the third delivery date you have missed. I want to speak to someone senior, not read another apology.",
)
LEAVING = Story(
    "Company account threatens to leave",
    Channel.PHONE,
    Category.COMPLAINT,
    Priority.URGENT,
    "We order for forty staff. If the invoices are wrong again this month we move to another supplier.",
)
WRONG_CURRENCY = Story(
    "Charged in the wrong currency",
    Channel.EMAIL,
    Category.BILLING,
    Priority.NORMAL,
    "My card was charged in US dollars although the shop showed rupees. The bank added a fee.",
)
CHIPPED = Story(
    "Mug arrived chipped",
    Channel.WEB,
    Category.DELIVERY,
    Priority.NORMAL,
    "One of the four mugs has a chip on the rim. Photo attached.",
)
DAMAGED = Story(
    "Wants the money back for a damaged parcel",
    Channel.EMAIL,
    Category.DELIVERY,
    Priority.HIGH,
    "The box was crushed and the item inside is broken. I do not want a replacement, I want my money back.",
)
LATE_GIFT = Story(
    "Anniversary present arrived a week late",
    Channel.PHONE,
    Category.DELIVERY,
    Priority.NORMAL,
    "The anniversary present arrived a week after the day. This is the fourth late parcel this year.",
)

FIRST_REPLY = "Thank you for telling us. I am looking into this now and will come back to you today."
COACHING = (
    "A replacement is within a rep's authority: you can send it yourself from the inquiry page "
    "(Remedies, Replacement). Ask a senior colleague only for what is above your limits, and tell "
    "the customer when to expect the new parcel."
)


class Command(BaseCommand):
    help = (
        "Switch on the example automatic-escalation rules and create demo escalations and approval "
        "requests (after seed_demo and seed_demo_inquiries). Safe to run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--i-know-this-is-not-production", action="store_true", dest="force")

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo_escalations is refused under production settings (set DJANGO_DEBUG=1).")
        users = {u.username: u for u in get_user_model().objects.filter(username__in=STAFF)}
        if len(users) < len(STAFF):
            raise CommandError("Run seed_demo first: it creates the demo staff and customers.")
        if not Inquiry.objects.filter(tags__name="demo").exists():
            raise CommandError("Run seed_demo_inquiries first: it creates the demo inquiries.")
        if Inquiry.objects.filter(tags__name=TAG).exists():
            self.stdout.write("Demo escalations already there: nothing added.")
            return
        customers = list(Customer.objects.filter(external_refs__source="demo").order_by("pk")[:6])
        if not customers:
            raise CommandError("No demo customers: run seed_demo first.")
        self.users = users
        self.actors = {name: Actor.for_user(user) for name, user in users.items()}
        self.now = clock.now()
        with transaction.atomic():
            rules = set_rules_active(
                actor=Actor.system("demo"), rules=EscalationRule.objects.filter(name__in=EXAMPLE_RULES), active=True
            )
            self._waiting_for_senior(customers[0 % len(customers)])
            self._skipped_to_supervisor(customers[1 % len(customers)])
            self._to_billing_specialist(customers[2 % len(customers)])
            self._returned_with_coaching(customers[3 % len(customers)])
            refund = self._refund_request()
            self._credit_request(customers[4 % len(customers)])
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo escalations ready: {len(rules)} rules switched on, 5 escalations, "
                f"{2 if refund else 1} approval requests. Review queues: {reverse('escalation:review')} "
                f"(senior1, specialist1, supervisor1); rep1's coaching: {reverse('escalation:coaching')}; "
                f"the admin's Escalation section: {reverse('admin:app_list', args=['escalation'])}."
            )
        )
        if not refund:
            self.stdout.write("No demo order has enough paid to refund: the refund request was left out.")

    # --- helpers ---------------------------------------------------------------------------------

    def at(self, hours_ago: float):
        return clock.frozen(self.now - hours_ago * HOUR)

    def _inquiry(self, story: Story, customer: Customer, by: str, *, orders=()) -> Inquiry:
        """A demo inquiry taken in and claimed by ``by``, with a first reply."""
        actor = self.actors[by]
        inquiry = inquiry_services.inquiry_create(
            actor=actor,
            customer=customer,
            subject=story.subject,
            channel=story.channel,
            category=story.category,
            priority=story.priority,
            body=story.words,
            orders=list(orders),
            tags=["demo", TAG],
        )
        inquiry_services.inquiry_claim(actor=actor, inquiry=inquiry)
        inquiry_services.reply_send(actor=actor, inquiry=inquiry, body=FIRST_REPLY)
        inquiry.refresh_from_db()
        return inquiry

    def _limit(self, tier: int, field: str, fallback: str) -> Decimal:
        row = AuthorityLimit.objects.filter(tier=tier).first()
        value = getattr(row, field) if row else None
        return value if value is not None else Decimal(fallback)

    # --- the stories -----------------------------------------------------------------------------

    def _waiting_for_senior(self, customer: Customer) -> None:
        """rep1 → senior reps' queue; the customer gets the escalation notice in their language."""
        with self.at(3):
            inquiry = self._inquiry(WANTS_SENIOR, customer, "rep1")
        with self.at(2.5):
            services.escalate(
                actor=self.actors["rep1"],
                inquiry=inquiry,
                reason=Reason.CUSTOMER_ASKED,
                reason_text="Asked twice for a senior colleague.",
                tried="Checked the tracking with the carrier, apologised and offered a new delivery slot, "
                "which the customer refused.",
                tell_customer=True,
            )

    def _skipped_to_supervisor(self, customer: Customer) -> None:
        """rep2 → supervisor, past the senior and specialist tiers, with the reason why."""
        with self.at(2):
            inquiry = self._inquiry(LEAVING, customer, "rep2")
        with self.at(1.5):
            services.escalate(
                actor=self.actors["rep2"],
                inquiry=inquiry,
                reason=Reason.COMPLAINT,
                tried="Listened, apologised and offered a goodwill credit within my limit; the customer wants "
                "a discount on their contract.",
                to_tier=Tier.SUPERVISOR,
                skip_reason="A company account threatening to leave today: only a supervisor can agree contract terms.",
            )

    def _to_billing_specialist(self, customer: Customer) -> None:
        """rep2 → senior rep, who takes it over and sends it on to the billing specialists."""
        with self.at(6):
            inquiry = self._inquiry(WRONG_CURRENCY, customer, "rep2")
        with self.at(5):
            services.escalate(
                actor=self.actors["rep2"],
                inquiry=inquiry,
                reason=Reason.EXPERTISE,
                tried="Compared the invoice with the card payment: the payment was taken in USD.",
            )
        with self.at(4):
            services.take_over(actor=self.actors["senior1"], inquiry=inquiry)
        with self.at(3):
            services.escalate(
                actor=self.actors["senior1"],
                inquiry=inquiry,
                reason=Reason.EXPERTISE,
                tried="Checked the payment provider's report; the currency setting of the shop needs billing.",
            )  # the specialty comes from the category: billing

    def _returned_with_coaching(self, customer: Customer) -> None:
        """rep1 → senior rep, who sends it back with a coaching note for rep1."""
        with self.at(4):
            inquiry = self._inquiry(CHIPPED, customer, "rep1")
        with self.at(3.5):
            services.escalate(
                actor=self.actors["rep1"],
                inquiry=inquiry,
                reason=Reason.AUTHORITY,
                tried="Asked for a photo of the chip; the customer sent it.",
            )
        with self.at(2):
            services.return_with_coaching(actor=self.actors["senior1"], inquiry=inquiry, coaching_note=COACHING)

    def _refund_request(self) -> bool:
        """rep1 proposes a refund above a rep's limit on a paid demo order: a request for a
        senior rep."""
        amount = self._limit(Tier.REP, "max_refund", "100") + Decimal("50.00")
        order = (
            Order.objects.filter(source="demo")
            .annotate(balance=F("paid_amount") - F("refunded_amount"))
            .filter(balance__gte=amount)
            .select_related("customer")
            .order_by("pk")
            .first()
        )
        if order is None:
            return False
        with self.at(1.5):
            inquiry = self._inquiry(DAMAGED, order.customer, "rep1", orders=[order])
        with self.at(1):
            inquiry_services.remedy_propose(
                actor=self.actors["rep1"],
                inquiry=inquiry,
                kind=RemedyKind.REFUND,
                amount=amount,
                order=order,
                reason="Item broken in a crushed parcel; the customer does not want a replacement.",
            )
        return True

    def _credit_request(self, customer: Customer) -> None:
        """senior1 proposes a goodwill credit above a senior rep's limit: a request for a
        specialist."""
        with self.at(1):
            inquiry = self._inquiry(LATE_GIFT, customer, "senior1")
        with self.at(0.5):
            inquiry_services.remedy_propose(
                actor=self.actors["senior1"],
                inquiry=inquiry,
                kind=RemedyKind.CREDIT,
                amount=self._limit(Tier.SENIOR_REP, "max_credit", "200") + Decimal("100.00"),
                reason="A late anniversary present, and the customer's fourth late parcel this year.",
            )
