"""API keys: ``Authorization: Api-Key fd_<prefix>_<secret>``. Stored as a SHA-256 hash.

Keys are 256-bit random values, so a fast hash is enough (no password stretching needed);
comparison is constant-time. A revoked key is refused. ``last_used_at`` is written at most
once a minute per key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from fulfillment import clock
from fulfillment.actors import Actor
from fulfillment.models import ApiClient, ApiScope

KEYWORD = "Api-Key"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_client_create(*, name: str, scopes: list[str]) -> tuple[ApiClient, str]:
    """A new client and its key. The key is returned once and never stored."""
    unknown = set(scopes) - set(ApiScope.values)
    if unknown or not scopes:
        raise ValueError(f"scopes must be among {', '.join(ApiScope.values)}")
    prefix = secrets.token_hex(6)
    key = f"fd_{prefix}_{secrets.token_urlsafe(32)}"
    client = ApiClient.objects.create(name=name, key_prefix=prefix, key_hash=_hash(key), scopes=sorted(set(scopes)))
    return client, key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate_header(self, request):
        return KEYWORD

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith(KEYWORD + " "):
            return None
        key = header[len(KEYWORD) + 1 :].strip()
        parts = key.split("_")
        if len(parts) < 3 or parts[0] != "fd":
            raise exceptions.AuthenticationFailed(_("Malformed API key."))
        client = ApiClient.objects.filter(key_prefix=parts[1]).first()
        if client is None or not hmac.compare_digest(client.key_hash, _hash(key)):
            raise exceptions.AuthenticationFailed(_("Unknown API key."))
        if client.is_revoked:
            raise exceptions.AuthenticationFailed(_("This API key has been revoked."))
        now = clock.now()
        if client.last_used_at is None or now - client.last_used_at > dt.timedelta(minutes=1):
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        return client, client


def actor_for(request) -> Actor:
    """The service actor behind a request: an API client or a staff user (browser session)."""
    if isinstance(request.auth, ApiClient):
        client = request.auth
        return Actor.api_client(client_id=client.pk, name=client.name, scopes=client.scope_set)
    return Actor.for_user(request.user)


class HasScope(permissions.BasePermission):
    """API clients need ``read`` for safe methods and ``write`` for the rest. Staff sessions need a
    staff role; what each may do is then checked by the services, as in the browser."""

    message = _("This key lacks the scope for this request.")

    def has_permission(self, request, view):
        if isinstance(request.auth, ApiClient):
            needed = ApiScope.READ if request.method in permissions.SAFE_METHODS else ApiScope.WRITE
            return needed in request.auth.scope_set
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and (user.tier or user.is_superuser))


class ApiKeySchema(OpenApiAuthenticationExtension):
    """Documents the API key in the OpenAPI schema."""

    target_class = "fulfillment.api.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Authorization: Api-Key fd_<prefix>_<secret>`",
        }
