"""Per-client request rate (FD_API_RATE, default 6000/minute); answers 429 with Retry-After."""

from rest_framework.throttling import SimpleRateThrottle

from fulfillment.models import ApiClient


class ClientRateThrottle(SimpleRateThrottle):
    scope = "client"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiClient):
            ident = f"client:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
