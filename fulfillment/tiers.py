"""The staff ladder: rep → senior rep → specialist → supervisor, and the specialties."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Tier(models.IntegerChoices):
    """Higher value = higher on the ladder. Escalation climbs this order."""

    REP = 1, _("Rep")
    SENIOR_REP = 2, _("Senior rep")
    SPECIALIST = 3, _("Specialist")
    SUPERVISOR = 4, _("Supervisor")

    @classmethod
    def next_above(cls, tier: int) -> "Tier | None":
        higher = [t for t in cls if t.value > tier]
        return min(higher, key=lambda t: t.value) if higher else None


class Specialty(models.TextChoices):
    BILLING = "billing", _("Billing")
    TECHNICAL = "technical", _("Technical support")
    SHIPPING = "shipping", _("Shipping and logistics")
    RETURNS = "returns", _("Returns")


class ContactChannel(models.TextChoices):
    """How a customer prefers to be (or was) reached."""

    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    LETTER = "letter", _("Letter")
    WEB = "web", _("Web")
