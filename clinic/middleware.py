from django.utils import timezone
from django.utils.cache import patch_cache_control

# Every URL that carries a secret (one-time links) lives under /t/ (config/urls.py).
ONE_TIME_LINK_PREFIX = "/t/"


class ClinicTimezoneMiddleware:
    """Show times in the user's clinic time zone (storage stays UTC)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        organisation = getattr(getattr(request, "user", None), "organisation", None)
        if organisation is not None:
            timezone.activate(organisation.tz)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def _logged_in(request) -> bool:
    return getattr(getattr(request, "user", None), "is_authenticated", False)


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response to a logged-in user (before or after the
    view: logging in and out count) and on every one-time link page (anonymous, but showing a
    client's questionnaire), so neither a browser nor a proxy keeps a copy of client data.

    A view's own header is kept when it already says no-store (e.g. never_cache, which adds
    more); any other directive it set stays, with no-store added. Static files never get here:
    whitenoise answers them before this middleware runs.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        logged_in = _logged_in(request)
        response = self.get_response(request)
        private = (
            logged_in or _logged_in(request) or request.path_info.startswith(ONE_TIME_LINK_PREFIX)
        )
        if private and "no-store" not in response.get("Cache-Control", ""):
            patch_cache_control(response, no_store=True)
        return response
