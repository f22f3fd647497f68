"""The security log: sign-ins, failures, lockouts, second factors and resets (SecurityEvent).

Written by the account services and by handlers of Django's and axes' sign-in signals (they
are events, not derived data). What is kept is deliberately coarse: the user only when the
login name matched an account (a typed login name is never stored: people type passwords into
it), the browser family rather than the user agent, and the network (/24 for IPv4, /48 for
IPv6) rather than the address. Never a password or a code.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.utils import timezone
from django_otp import user_has_device

from clinic.models import SecurityEvent, SecurityEventKind
from config.client_ip import client_ip

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clinic.models import User

# The time of the password step, for the absolute session lifetime (clinic.middleware).
SIGNED_IN_AT = "selfkind_signed_in_at"
# What this session still needs before the user may go anywhere: "verify" (the user has a
# second factor) or "enrol" (staff of a clinic that requires one, without one). Set at the
# password step, cleared by verification or enrolment (clinic.two_factor).
SECOND_FACTOR_STEP = "selfkind_second_factor"
ENROL, VERIFY = "enrol", "verify"

# (token in the user agent, family), first match wins: Edge and Opera also say Chrome, and
# Chrome also says Safari.
_BROWSERS = (
    ("Edg", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("FxiOS", "Firefox"),
    ("Chrome/", "Chrome"),
    ("CriOS", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iOS"),
    ("iPad", "iOS"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def browser_family(user_agent: str) -> str:
    """ "Firefox on Windows", "Safari on iOS"...: the family only, never the version or the
    rest of the user agent."""
    if not user_agent:
        return "Unknown browser"
    browser = next((name for token, name in _BROWSERS if token in user_agent), "Other browser")
    system = next((name for token, name in _SYSTEMS if token in user_agent), "")
    return f"{browser} on {system}" if system else browser


def coarse_network(address: str | None) -> str:
    """The network an address belongs to: /24 for IPv4, /48 for IPv6; "" when not an address."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return ""
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def security_event_record(
    kind: str,
    *,
    user: User | None = None,
    request: HttpRequest | None = None,
    actor: User | None = None,
    method: str = "",
) -> SecurityEvent:
    """Append one event. The organisation is the user's (none when no account matched)."""
    return SecurityEvent.objects.create(
        organisation_id=getattr(user, "organisation_id", None),
        user=user,
        actor=actor,
        kind=kind,
        method=method,
        browser=browser_family(request.META.get("HTTP_USER_AGENT", "")) if request else "",
        network=coarse_network(client_ip(request)) if request else "",
    )


def _matching_user(username: str | None):
    """The account a typed login name names exactly, as the sign-in itself matches it."""
    if not username:
        return None
    model = get_user_model()
    return model._default_manager.filter(**{model.USERNAME_FIELD: username}).first()


def second_factor_step(user: User) -> str:
    """What a session of this user needs after the password: VERIFY when they have a second
    factor, ENROL when they are staff of a clinic that requires one, "" otherwise (the
    factors themselves: clinic.two_factor)."""
    if user_has_device(user):
        return VERIFY
    organisation = getattr(user, "organisation", None)
    if user.is_clinic_staff and organisation is not None and organisation.two_factor_required:
        return ENROL
    return ""


@receiver(user_logged_in, dispatch_uid="selfkind_signed_in")
def _signed_in(sender, request, user, **kwargs):
    """The password step passed (Django has just rotated the session key): note the time for
    the absolute lifetime, what second step the session needs, and log the sign-in."""
    if request is None or not hasattr(request, "session"):
        return
    request.session[SIGNED_IN_AT] = timezone.now().timestamp()
    step = second_factor_step(user)
    if step:
        request.session[SECOND_FACTOR_STEP] = step
    else:
        request.session.pop(SECOND_FACTOR_STEP, None)
    security_event_record(SecurityEventKind.SIGN_IN, user=user, request=request)


@receiver(user_login_failed, dispatch_uid="selfkind_sign_in_failed")
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    """A wrong password (or any refused sign-in). A refusal because of a lockout is logged as
    the lockout (below), not twice."""
    if request is None or getattr(request, "axes_locked_out", False):
        return
    user = _matching_user(credentials.get("username"))
    security_event_record(SecurityEventKind.SIGN_IN_FAILED, user=user, request=request)


@receiver(user_locked_out, dispatch_uid="selfkind_locked_out")
def _locked_out(sender, request=None, username=None, **kwargs):
    """axes refused a sign-in: this username from this address, or this address altogether."""
    if request is None:
        return
    user = _matching_user(username)
    security_event_record(SecurityEventKind.LOCKED_OUT, user=user, request=request)
