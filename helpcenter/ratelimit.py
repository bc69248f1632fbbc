"""A per-address request budget for the public endpoints (votes, suggestions): the cache counts
hits of one client address in a window, as the public contact form does (inquiries/web.py)."""

from __future__ import annotations

import hashlib

from django.core.cache import cache


def allow(request, *, scope: str, limit: int, window: int) -> bool:
    """Count this request; False once the address has made more than ``limit`` in ``window`` seconds."""
    address = request.META.get("REMOTE_ADDR", "")
    key = f"help:{scope}:" + hashlib.sha256(address.encode()).hexdigest()[:32]
    cache.add(key, 0, window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        count = 1
    return count <= limit
