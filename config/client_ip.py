"""The client's IP address for login throttling, honest about proxies."""

from __future__ import annotations

from django.conf import settings


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or with SELFKIND_PROXY_COUNT=N trusted proxies, the address the outermost
    trusted proxy saw (the N-th entry from the right of X-Forwarded-For).

    Entries left of that are supplied by the client and can be forged, so they are ignored.
    """
    count = settings.SELFKIND_PROXY_COUNT
    if count > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")
