"""Demo staff, customers and orders, for trying the desk. Idempotent: a second run adds nothing.

Refused under production settings (DJANGO_DEBUG off) unless --i-know-this-is-not-production:
demo accounts have known passwords.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from fulfillment import clock
from fulfillment.actors import Actor
from fulfillment.models import StaffSpecialty, Team
from fulfillment.tiers import ContactChannel, Specialty, Tier
from orders import services
from orders.enums import Department
from orders.models import CustomerExternalRef, Order
from orders.services import LineInput

DEMO_PASSWORD = "desk-demo-2026"  # noqa: S105 - demo only; refused in production
STAFF = [
    ("rep1", "Priya", "Raman", Tier.REP, [], "en"),
    ("rep2", "Jose", "Santos", Tier.REP, [], "fil"),
    ("senior1", "Anika", "Sen", Tier.SENIOR_REP, [], "bn"),
    ("specialist1", "Karthik", "Murugan", Tier.SPECIALIST, [Specialty.BILLING, Specialty.SHIPPING], "ta"),
    ("supervisor1", "Meera", "Sharma", Tier.SUPERVISOR, [], "hi"),
]
#: Demo teams: name → (lead, members). The reports filter by team.
TEAMS = {
    "Chennai desk": ("supervisor1", ["rep1", "specialist1", "supervisor1"]),
    "Manila and Dhaka desk": ("senior1", ["rep2", "senior1"]),
}
FIRST = [
    "Aarav",
    "Maria",
    "Rahim",
    "Lakshmi",
    "Juan",
    "Fatima",
    "Arjun",
    "Grace",
    "Sadia",
    "Vikram",
    "Isabel",
    "Tanvir",
    "Kavya",
    "Paolo",
    "Nusrat",
    "Rohan",
    "Angelica",
    "Imran",
    "Divya",
    "Ramon",
]
LAST = [
    "Iyer",
    "Reyes",
    "Hossain",
    "Krishnan",
    "Dela Cruz",
    "Begum",
    "Patel",
    "Bautista",
    "Chowdhury",
    "Nair",
    "Garcia",
    "Islam",
    "Subramanian",
    "Mendoza",
    "Akter",
    "Gupta",
    "Villanueva",
    "Khan",
]
CITIES = [
    ("Chennai", "TN", "IN"),
    ("Manila", "NCR", "PH"),
    ("Dhaka", "", "BD"),
    ("Delhi", "DL", "IN"),
    ("Cebu City", "CEB", "PH"),
    ("London", "", "GB"),
    ("Toronto", "ON", "CA"),
]
PRODUCTS = [
    ("KB-100", "Mechanical keyboard", "89.00"),
    ("MS-220", "Wireless mouse", "29.50"),
    ("HD-330", "Noise-cancelling headset", "149.00"),
    ("CB-010", "USB-C cable, 2 m", "12.00"),
    ("MN-270", "27-inch monitor", "329.00"),
    ("DK-400", "Laptop dock", "189.00"),
    ("WC-050", "Webcam 1080p", "59.00"),
    ("LS-120", "Laptop stand", "39.90"),
]
LANGS = ["en", "ta", "fil", "bn", "hi"]


class Command(BaseCommand):
    help = f"Create demo staff (password '{DEMO_PASSWORD}'), customers and orders. Safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=40)
        parser.add_argument("--i-know-this-is-not-production", action="store_true", dest="force")

    def handle(self, *args, customers: int, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates accounts with a known password and is refused under production "
                "settings. Set DJANGO_DEBUG=1 on a machine that is not production."
            )
        if customers < 0 or customers > 10_000:
            raise CommandError("--customers must be between 0 and 10000.")
        staff = self._staff()
        made = self._customers_and_orders(customers, staff)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(staff)} staff, {made} new orders. Logins: "
                + ", ".join([*staff, "admin"])
                + f" (password: {DEMO_PASSWORD})"
            )
        )

    def _staff(self) -> dict:
        User = get_user_model()
        users = {}
        with transaction.atomic():
            for username, first, last, tier, specialties, language in STAFF:
                user, created = User.objects.get_or_create(
                    username=username,
                    defaults={
                        "first_name": first,
                        "last_name": last,
                        "tier": tier,
                        "language": language,
                        "email": f"{username}@desk.example",
                        # supervisors configure limits, rules and targets in the admin
                        "is_staff": tier == Tier.SUPERVISOR,
                    },
                )
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save(update_fields=["password"])
                for specialty in specialties:
                    StaffSpecialty.objects.get_or_create(user=user, specialty=specialty)
                users[username] = user
            for name, (lead, members) in TEAMS.items():
                team, _created = Team.objects.get_or_create(name=name, defaults={"lead": users[lead]})
                User.objects.filter(username__in=members, team__isnull=True).update(team=team)
            admin, created = User.objects.get_or_create(
                username="admin",
                defaults={
                    "is_staff": True,
                    "is_superuser": True,
                    "email": "admin@desk.example",
                    "first_name": "Desk",
                    "last_name": "Admin",
                },
            )
            if created:
                admin.set_password(DEMO_PASSWORD)
                admin.save(update_fields=["password"])
        return users

    def _customers_and_orders(self, count: int, staff: dict) -> int:
        rep = Actor.for_user(staff["rep1"])
        senior = Actor.for_user(staff["senior1"])
        today = clock.today()
        made = 0
        for i in range(1, count + 1):
            ref = f"C{i:05d}"
            rng = random.Random(f"demo-customer-{ref}")  # per customer: reruns see the same data
            first, last = rng.choice(FIRST), rng.choice(LAST)
            city, region, country = rng.choice(CITIES)
            phone = f"+1 555 {rng.randint(100, 999)} {i:04d}"
            details = {
                "name": f"{first} {last}",
                "phone": phone,
                "email": f"{first}.{last}.{i}@example.com".lower().replace(" ", ""),
                "preferred_language": rng.choice(LANGS),
                "preferred_channel": rng.choice(ContactChannel.values),
                "address_line1": f"{rng.randint(1, 200)} Market Street",
                "city": city,
                "region": region,
                "postal_code": f"{rng.randint(10000, 99999)}",
                "country": country,
            }
            existing = CustomerExternalRef.objects.filter(source="demo", external_ref=ref).first()
            if existing:
                customer = existing.customer
            else:
                customer = services.customer_create(actor=rep, external_refs=[("demo", ref)], **details)
            for j in range(rng.randint(1, 6)):
                order_ref = f"{ref}-{j + 1}"
                if Order.objects.filter(source="demo", external_ref=order_ref).exists():
                    continue
                made += 1
                self._order(random.Random(f"demo-order-{order_ref}"), customer, order_ref, rep, senior, staff, today)
        return made

    def _order(self, rng, customer, ref, rep, senior, staff, today):
        lines = [
            LineInput(sku=sku, description=desc, quantity=rng.randint(1, 3), unit_price=Decimal(price))
            for sku, desc, price in rng.sample(PRODUCTS, rng.randint(1, 3))
        ]
        age = rng.randint(0, 20)
        placed = clock.now() - dt.timedelta(days=age, hours=rng.randint(0, 12))
        ship_by = (placed + dt.timedelta(days=2)).date()
        order = services.order_create(
            actor=Actor.system("shop-front"),
            customer=customer,
            lines=lines,
            source="demo",
            external_ref=ref,
            placed_at=placed,
            ship_by=ship_by,
            deliver_by=ship_by + dt.timedelta(days=rng.randint(2, 6)),
        )
        services.order_record_payment(
            actor=Actor.system("payments"), order=order, amount=order.total, reference=f"PAY-{order.pk}"
        )
        stage = rng.random()
        if stage < 0.15:
            return  # placed, waiting
        services.order_confirm(actor=rep, order=order)
        if stage < 0.3:
            if rng.random() < 0.4:
                services.order_request_expedite(
                    actor=rep, order=order, reason="Needed for a trip", requested_by="customer"
                )
            return
        if stage < 0.38:
            services.order_hold(actor=rep, order=order, reason="Address to be confirmed with the customer")
            return
        if stage < 0.43:
            services.order_cancel(actor=rep, order=order, reason="Customer changed their mind")
            services.order_refund(actor=senior, order=order, amount=order.total, reason="Cancelled before shipping")
            return
        services.order_start_processing(actor=rep, order=order)
        if stage < 0.5:
            services.handoff_create(
                actor=rep,
                order=order,
                department=Department.WAREHOUSE,
                summary="Item not found on shelf; please check stock",
                owner=staff["specialist1"],
                due_date=today + dt.timedelta(days=1),
            )
            return
        services.order_pack(actor=rep, order=order)
        if stage < 0.55:
            return
        services.order_ship(
            actor=rep,
            order=order,
            carrier=rng.choice(["DHL", "FedEx", "India Post", "LBC"]),
            tracking_number=f"TRK{order.pk:09d}",
        )
        if stage < 0.75:
            if rng.random() < 0.3:
                services.order_add_note(actor=rep, order=order, text="Customer called: asked for the tracking link.")
            return
        services.order_deliver(actor=rep, order=order)
        if stage > 0.97:
            services.order_mark_returned(actor=rep, order=order, reason="Arrived damaged")
