"""Choices for the ladder in motion."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Reason(models.TextChoices):
    """Why an inquiry goes up (the list; free text adds the detail)."""

    AUTHORITY = "authority", _("Needs more authority than I have")
    EXPERTISE = "expertise", _("Needs specialist knowledge")
    CUSTOMER_ASKED = "customer_asked", _("The customer asked for a senior colleague")
    COMPLAINT = "complaint", _("Serious complaint or threat to leave")
    REPEAT = "repeat", _("Repeated contact without resolution")
    EXCEPTION = "exception", _("Needs an exception to policy")
    OTHER = "other", _("Other")
    AUTOMATIC = "automatic", _("Automatic: a rule fired")


#: The reasons a person may choose (AUTOMATIC is the rules' own).
MANUAL_REASONS = tuple(r for r in Reason if r != Reason.AUTOMATIC)


class Kind(models.TextChoices):
    MANUAL = "manual", _("By a person")
    AUTOMATIC = "automatic", _("Automatic")


class Outcome(models.TextChoices):
    """What became of an escalation when the inquiry left its tier (empty while it is there)."""

    ESCALATED_FURTHER = "escalated_further", _("Escalated further")
    RETURNED = "returned", _("Returned with coaching")
    REASSIGNED = "reassigned", _("Reassigned to a lower tier")
    DE_ESCALATED = "de_escalated", _("De-escalated when done")
    RESOLVED = "resolved", _("Resolved at this tier")


class Trigger(models.TextChoices):
    """What an automatic escalation rule watches."""

    FIRST_RESPONSE_BREACHED = "first_response_breached", _("First-response target breached")
    RESOLUTION_BREACHED = "resolution_breached", _("Resolution target breached")
    CALLBACK_MISSED = "callback_missed", _("Callback promise missed")
    REPEAT_CONTACTS = "repeat_contacts", _("Customer contacts without resolution")
    FOLLOW_UP_MISSED = "follow_up_missed", _("Follow-up call missed")
