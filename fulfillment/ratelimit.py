"""A per-address request budget for the public endpoints (the contact and help-center forms,
votes, suggestions, the customer's status page): the cache counts one client address's hits per
scope in a window. The address is hashed before it becomes a cache key."""

from __future__ import annotations

import hashlib

from django.core.cache import cache


def allow(request, *, scope: str, limit: int, window: int) -> bool:
    """Count this request; False once the address has made more than ``limit`` in ``window`` seconds."""
    address = request.META.get("REMOTE_ADDR", "")
    key = f"rate:{scope}:" + hashlib.sha256(address.encode()).hexdigest()[:32]
    cache.add(key, 0, window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        count = 1
    return count <= limit
