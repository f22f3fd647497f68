from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control

from clinic.security import SECOND_FACTOR_STEP, SIGNED_IN_AT

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


class SessionLifetimeMiddleware:
    """End a session a set number of hours after the password step, however active it was
    (settings.SELFKIND_SESSION_MAX_HOURS; the 30-minute idle limit is the session cookie's).
    The time is noted at sign-in (clinic.security); a session without it is ended too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _logged_in(request):
            started = request.session.get(SIGNED_IN_AT)
            limit = settings.SELFKIND_SESSION_MAX_HOURS * 3600
            if started is None or timezone.now().timestamp() - started > limit:
                logout(request)  # LoginRequiredMiddleware then sends them to the login page
        return self.get_response(request)


# Where a signed-in user who still owes a second factor may go: the steps themselves, the
# passkey ceremonies (django-otp-webauthn, namespace otp_webauthn) and logging out.
OPEN_BEFORE_SECOND_FACTOR = frozenset(
    {
        "logout",
        "account:two_factor_enrol",
        "account:two_factor_verify",
    }
)
PASSKEY_NAMESPACE = "otp_webauthn"


class SecondFactorMiddleware:
    """A session that still owes its second factor (clinic.security.SECOND_FACTOR_STEP, set at
    the password step) reaches nothing but the steps: "verify" sends the user to enter a code or
    use a passkey, "enrol" (staff of a clinic that requires it) to set one up. No query: the step
    is in the session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        step = request.session.get(SECOND_FACTOR_STEP) if hasattr(request, "session") else None
        if not step or not _logged_in(request):
            return None
        match = request.resolver_match
        if match.namespace == PASSKEY_NAMESPACE or match.view_name in OPEN_BEFORE_SECOND_FACTOR:
            return None
        target = "account:two_factor_enrol" if step == "enrol" else "account:two_factor_verify"
        return redirect_to_login(request.get_full_path(), reverse(target))
