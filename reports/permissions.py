"""Who may read the reports: supervisors every tier; senior reps and specialists their own tier
only; reps nothing. API clients need the ``read`` scope (and see every tier)."""

from __future__ import annotations

from fulfillment.actors import Actor, ActorKind
from fulfillment.permissions import Rule, require
from fulfillment.tiers import Tier

VIEW = Rule("reports.view", min_tier=Tier.SENIOR_REP, api_scope="read")


def locked_tier(actor: Actor) -> int | None:
    """The one tier this actor may see (None: every tier). Raises PermissionDenied for reps."""
    require(actor, VIEW)
    if actor.kind != ActorKind.USER or actor.tier is None or actor.tier >= Tier.SUPERVISOR:
        return None
    return actor.tier
