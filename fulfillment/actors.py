"""Who did it: a staff user, an API client or the system. Every service takes one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

from .tiers import Tier

if TYPE_CHECKING:
    from .models import User


class ActorKind(models.TextChoices):
    USER = "user", _("Staff user")
    API_CLIENT = "api_client", _("API client")
    SYSTEM = "system", _("System")


@dataclass(frozen=True)
class Actor:
    kind: str
    name: str
    user: User | None = None
    api_client_id: int | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def for_user(cls, user: User) -> Actor:
        return cls(kind=ActorKind.USER, name=user.get_username(), user=user)

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(kind=ActorKind.SYSTEM, name=name)

    @classmethod
    def api_client(cls, *, client_id: int, name: str, scopes: frozenset[str]) -> Actor:
        return cls(kind=ActorKind.API_CLIENT, name=name, api_client_id=client_id, scopes=scopes)

    @property
    def tier(self) -> int | None:
        """The actor's place on the ladder (None: not staff)."""
        if self.kind == ActorKind.SYSTEM:
            return Tier.SUPERVISOR
        if self.user is None or not self.user.is_active:
            return None
        if self.user.is_superuser:
            return Tier.SUPERVISOR
        return self.user.tier

    def event_fields(self) -> dict:
        """The actor columns of a timeline event row."""
        return {"actor_kind": self.kind, "actor_user": self.user, "actor_name": self.name[:150]}


def as_actor(actor: Actor | User) -> Actor:
    """Services accept a User for convenience; normalise to an Actor."""
    if isinstance(actor, Actor):
        return actor
    return Actor.for_user(actor)
