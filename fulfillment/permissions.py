"""Permission rules checked by services (not only by views), so every face behaves alike.

Each app declares its rules (see ``orders/permissions.py``); the kernel checks them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .actors import Actor, ActorKind
from .errors import PermissionDenied
from .tiers import Tier


@dataclass(frozen=True)
class Rule:
    """Who may do an action: staff at ``min_tier`` or above, API clients with ``api_scope``."""

    code: str
    min_tier: int = Tier.REP
    api_scope: str | None = "write"

    def allows(self, actor: Actor) -> bool:
        if actor.kind == ActorKind.SYSTEM:
            return True
        if actor.kind == ActorKind.API_CLIENT:
            return self.api_scope is not None and self.api_scope in actor.scopes
        tier = actor.tier
        return tier is not None and tier >= self.min_tier


def can(actor: Actor, rule: Rule) -> bool:
    return rule.allows(actor)


def require(actor: Actor, rule: Rule) -> None:
    if not rule.allows(actor):
        if actor.kind == ActorKind.USER and actor.tier is not None:
            raise PermissionDenied(
                _("Your role (%(role)s) may not do this: it needs %(needed)s or above.")
                % {"role": Tier(actor.tier).label, "needed": Tier(rule.min_tier).label}
            )
        raise PermissionDenied()
