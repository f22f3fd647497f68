"""Second factors (django-otp): authenticator apps (TOTP), passkeys (django-otp-webauthn) and
one-time recovery codes. No one-time-password or WebAuthn code of our own: the libraries verify,
this module decides who needs what and keeps the security log.

- A user with a second factor passes it after the password, every time (staff and clients
  alike: clients may opt in; it is never required of them).
- Staff of a clinic that requires it (Organisation.two_factor_required) enrol after the
  password and reach nothing else until they have (clinic.middleware.SecondFactorMiddleware).
- Enrolling the first factor makes ten recovery codes, shown once; each works once.
- A clinic admin may reset a colleague's second factors: every method is removed and every
  session ended; the colleague enrols again at their next sign-in.
"""

from __future__ import annotations

import time
from binascii import unhexlify
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import qrcode
import qrcode.image.svg
from django.db import transaction
from django_otp import DEVICE_ID_SESSION_KEY, device_classes, user_has_device
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex
from django_otp_webauthn.models import WebAuthnCredential

from clinic.models import SecurityEventKind
from clinic.security import SECOND_FACTOR_STEP, VERIFY, security_event_record
from clinic.services import (
    ServiceError,
    notify_second_factor_enrolled,
    notify_second_factor_reset,
    user_sessions_end,
)

if TYPE_CHECKING:
    from django.http import HttpRequest
    from django_otp.models import Device

    from clinic.models import User

RECOVERY_CODE_COUNT = 10
TOTP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
# Session key holding the secret of an authenticator app being set up (never stored on a
# device row until the user has proved, with a code, that their app holds it).
TOTP_SETUP_KEY = "selfkind_totp_setup"

METHOD_TOTP, METHOD_RECOVERY, METHOD_PASSKEY = "totp", "recovery_code", "passkey"


def may_change_second_factors(request: HttpRequest) -> bool:
    """Adding or replacing a second factor, or making recovery codes, needs a session that
    passed the second step whenever the user has one: else a stolen password alone could add
    the thief's own app (or print fresh codes) and walk past the second step."""
    user = request.user
    if request.session.get(SECOND_FACTOR_STEP) == VERIFY:
        return False
    return user.is_verified() or not user_has_device(user)


def required_of(user: User) -> bool:
    """Whether the user's clinic requires a second factor of them (staff only, ever)."""
    return bool(user.is_clinic_staff and user.organisation.two_factor_required)


@dataclass
class SecondFactors:
    """A user's confirmed second factors, for their security page and the verify page."""

    totp: TOTPDevice | None = None
    passkeys: list = field(default_factory=list)
    recovery: StaticDevice | None = None
    recovery_left: int = 0

    @property
    def any(self) -> bool:
        return self.totp is not None or bool(self.passkeys) or self.recovery is not None


def second_factors_of(user: User) -> SecondFactors:
    factors = SecondFactors(
        totp=TOTPDevice.objects.devices_for_user(user, confirmed=True).first(),
        passkeys=list(WebAuthnCredential.objects.devices_for_user(user, confirmed=True)),
        recovery=StaticDevice.objects.devices_for_user(user, confirmed=True).first(),
    )
    if factors.recovery is not None:
        factors.recovery_left = factors.recovery.token_set.count()
    return factors


# --- Setting up an authenticator app ---------------------------------------------------------


def totp_setup_key(session) -> str:
    """The secret offered to this session's user (made once per setup, kept in the session)."""
    key = session.get(TOTP_SETUP_KEY)
    if not key:
        key = session[TOTP_SETUP_KEY] = random_hex(20)
    return key


@dataclass(frozen=True)
class TotpSetup:
    secret: str  # base32, for typing into an app by hand
    qr_svg: str  # the otpauth:// URL as an inline SVG (no script, no style attribute)


def totp_setup(user: User, key: str) -> TotpSetup:
    device = TOTPDevice(user=user, key=key, name=TOTP_NAME)
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg = image.to_string(encoding="unicode")
    secret = device.config_url.split("secret=", 1)[1].split("&", 1)[0]
    return TotpSetup(secret=secret, qr_svg=svg)


def _totp_step(key: str, code: str) -> int | None:
    """The time step a code from an app holding `key` matches now (one step either side), as
    TOTPDevice itself checks; None when it does not match."""
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = TOTP(unhexlify(key.encode()))
    totp.time = time.time()
    return totp.t() if totp.verify(int(code), tolerance=1) else None


def totp_enrol(*, user: User, key: str, code: str, request: HttpRequest) -> list[str]:
    """Save the authenticator app whose secret is `key`, once `code` proves the app holds it;
    it replaces any earlier app. Returns new recovery codes when the user had none (shown
    once), else []. ServiceError when the code does not match."""
    step = _totp_step(key, code)
    if step is None:
        raise ServiceError(
            "That code does not match. Check that the app shows the Selfkind entry you just "
            "added, and type the six digits it shows now."
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(
            user=user, key=key, name=TOTP_NAME, confirmed=True, last_t=step
        )
        codes = [] if _has_recovery_codes(user) else _recovery_codes_replace(user)
        security_event_record(
            SecurityEventKind.ENROLLED, user=user, request=request, method=METHOD_TOTP
        )
        notify_second_factor_enrolled(user, method=METHOD_TOTP)
    request.session.pop(TOTP_SETUP_KEY, None)
    session_verified(request, device)
    return codes


def passkey_enrolled(*, user: User, request: HttpRequest) -> None:
    """django-otp-webauthn saved a passkey for the user: log it and tell them."""
    security_event_record(
        SecurityEventKind.ENROLLED, user=user, request=request, method=METHOD_PASSKEY
    )
    notify_second_factor_enrolled(user, method=METHOD_PASSKEY)


# --- Recovery codes ------------------------------------------------------------------------


def _has_recovery_codes(user: User) -> bool:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).exists()


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def recovery_codes_make(*, user: User, request: HttpRequest) -> list[str]:
    """A fresh set of recovery codes (the old set stops working), to be shown once. Only for a
    user who has another second factor: codes alone are not a way to enrol."""
    with transaction.atomic():
        factors = second_factors_of(user)
        if factors.totp is None and not factors.passkeys:
            raise ServiceError("Set up an authenticator app or a passkey first.")
        codes = _recovery_codes_replace(user)
        security_event_record(SecurityEventKind.RECOVERY_CODES, user=user, request=request)
    return codes


# --- Verification after the password ----------------------------------------------------------


class VerificationPaused(ServiceError):
    """Too many wrong codes in a row: django-otp makes the user wait (1, 2, 4... seconds)."""


def second_factor_verify(*, user: User, method: str, code: str, request: HttpRequest) -> bool:
    """Check a code from the user's authenticator app (METHOD_TOTP) or one of their recovery
    codes (METHOD_RECOVERY, used up on success). On success the session is marked verified
    under a new key. The attempt is logged either way; never the code."""
    model = TOTPDevice if method == METHOD_TOTP else StaticDevice
    code = "".join(code.split()).lower()
    with transaction.atomic():
        device = model.objects.devices_for_user(user, confirmed=True).select_for_update().first()
        if device is None:
            raise ServiceError("You have no such second factor; choose another way.")
        allowed, _ = device.verify_is_allowed()
        if not allowed:
            raise VerificationPaused(
                "Too many wrong codes in a row: wait a few seconds, then try again."
            )
        verified = device.verify_token(code)
        kind = (
            SecurityEventKind.SECOND_FACTOR if verified else SecurityEventKind.SECOND_FACTOR_FAILED
        )
        security_event_record(kind, user=user, request=request, method=method)
    if verified:
        session_verified(request, device)
    return verified


def session_verified(request: HttpRequest, device: Device) -> None:
    """Mark this session as having passed the second factor, under a new session key (the
    key rotates at each step up, as at the password step)."""
    request.session.cycle_key()
    otp_login(request, device)
    request.session.pop(SECOND_FACTOR_STEP, None)


def passkey_verified(*, request: HttpRequest, device: Device) -> None:
    security_event_record(
        SecurityEventKind.SECOND_FACTOR, user=request.user, request=request, method=METHOD_PASSKEY
    )
    session_verified(request, device)


def passkey_refused(*, request: HttpRequest) -> None:
    security_event_record(
        SecurityEventKind.SECOND_FACTOR_FAILED,
        user=request.user,
        request=request,
        method=METHOD_PASSKEY,
    )


# --- Removing second factors -------------------------------------------------------------------


def _remove_all(user: User) -> int:
    removed = 0
    for model in device_classes():
        count, _ = model.objects.filter(user=user).delete()
        removed += count
    return removed


def second_factor_reset(*, actor: User, user: User, request: HttpRequest) -> None:
    """A clinic admin removes a colleague's second factors (a lost phone): every session of
    the colleague ends, and they enrol again at their next sign-in (their clinic requiring it)
    or sign in with the password alone (it not requiring it)."""
    if not actor.is_clinic_admin or user.organisation_id != actor.organisation_id:
        raise ServiceError("Only a clinic admin of the same clinic can reset a second factor.")
    if user.pk == actor.pk:
        raise ServiceError("Another clinic admin has to reset your own second factor.")
    if not user.is_clinic_staff:
        raise ServiceError("Clients turn their own second factor off; staff cannot reset it.")
    with transaction.atomic():
        _remove_all(user)
        user_sessions_end(user.pk)
        security_event_record(
            SecurityEventKind.SECOND_FACTOR_RESET, user=user, actor=actor, request=request
        )
        notify_second_factor_reset(user, actor=actor)


def second_factor_remove(*, user: User, request: HttpRequest) -> None:
    """A user turns their own second factor off, where it is not required of them."""
    if required_of(user):
        raise ServiceError(
            "Your clinic requires a second factor of its staff, so you cannot turn it off. "
            "Add another way (or new recovery codes) instead."
        )
    with transaction.atomic():
        _remove_all(user)
        security_event_record(SecurityEventKind.SECOND_FACTOR_REMOVED, user=user, request=request)
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
