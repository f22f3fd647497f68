"""Fixed-window rate limits kept in the cache.

The cache must be shared by every web server for a limit to hold across them: production
settings require REDIS_URL, which is the cache there. Identifiers are hashed, so no address
reaches the cache in clear.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache


def rate_limit_allows(scope: str, identifier: str, *, limit: int, window_seconds: int) -> bool:
    """Count one request for `identifier` in `scope`; False once `limit` are spent in the
    current window (which starts with the first request and lasts `window_seconds`)."""
    digest = hashlib.sha256(identifier.encode()).hexdigest()[:32]
    key = f"ratelimit:{scope}:{digest}"
    cache.add(key, 0, window_seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window_seconds)
        count = 1
    return count <= limit
