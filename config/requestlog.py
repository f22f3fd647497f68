"""One structured log record per request (logger `selfkind.request`, on in production).

Fields: method, path (no query string; paths under /t/ redacted; a path that matches no URL
pattern, which anyone can type, is logged as "[unmatched]"), route (the URL pattern's name),
status, duration_ms and the balancer's request id when it sends one in the usual format. Never
a query string, a header, a form field, a cookie or a user name: the audit trail says who
viewed what. Health checks are logged at DEBUG, so a balancer's probes every few
seconds do not fill the log.
"""

from __future__ import annotations

import logging
import re
import time

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed

from config.logging import redact_secret_paths

logger = logging.getLogger("selfkind.request")

HEALTH_PATHS = frozenset({"/healthz", "/readyz"})
# A request id as balancers make them (hex, UUID): anything else is dropped, not logged.
REQUEST_ID = re.compile(r"[0-9A-Za-z:._-]{1,64}")
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "[unmatched]"


def request_fields(request, response, duration_s: float) -> dict:
    match = getattr(request, "resolver_match", None)
    path = request.path
    static = path.startswith(f"/{settings.STATIC_URL.lstrip('/')}") and response.status_code < 400
    if match is None and not static:
        path = UNMATCHED
    fields = {
        "method": request.method if request.method in KNOWN_METHODS else "OTHER",
        "path": redact_secret_paths(path),
        "route": match.view_name if match is not None else None,
        "status": response.status_code,
        "duration_ms": round(duration_s * 1000, 1),
    }
    request_id = request.META.get("HTTP_X_REQUEST_ID", "")
    if REQUEST_ID.fullmatch(request_id):
        fields["request_id"] = request_id
    return fields


class RequestLogMiddleware:
    def __init__(self, get_response):
        if not settings.SELFKIND_REQUEST_LOG:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        level = logging.DEBUG if request.path in HEALTH_PATHS else logging.INFO
        if logger.isEnabledFor(level):
            fields = request_fields(request, response, time.perf_counter() - started)
            logger.log(level, "request", extra={"fields": fields})
        return response
