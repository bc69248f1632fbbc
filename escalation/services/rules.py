"""Automatic-escalation rules switched on and off (the admin's actions, the demo data)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from fulfillment import clock
from fulfillment.actors import Actor, as_actor
from fulfillment.permissions import require

from ..models import EscalationRule
from ..permissions import CONFIGURE


def set_rules_active(*, actor: Actor, rules: Iterable[EscalationRule], active: bool) -> list[EscalationRule]:
    """Switch automatic-escalation rules on or off (the admin's actions and the demo data):
    only those who may configure escalation. Returns the rules that changed."""
    actor = as_actor(actor)
    require(actor, CONFIGURE)
    with transaction.atomic():
        changed = list(
            EscalationRule.objects.select_for_update()
            .filter(pk__in=[rule.pk for rule in rules])
            .exclude(active=active)
            .order_by("pk")
        )
        now = clock.now()
        for rule in changed:
            rule.active = active
            rule.updated_at = now
            rule.save(update_fields=["active", "updated_at"])
    return changed
