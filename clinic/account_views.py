"""Accounts: second factors, recent sign-ins, signing out everywhere (every user), and for
clinic admins the clinic's security log and settings and a colleague's second-factor reset.
Thin: check access, validate with a form, call a service, render or redirect."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from clinic import selectors, services, two_factor
from clinic.access import clinic_admin_required
from clinic.forms import SecondFactorForm, SecuritySettingsForm, TotpEnrolForm
from clinic.models import SecurityEvent, SecurityEventKind
from clinic.security import ENROL, SECOND_FACTOR_STEP, VERIFY

RECENT_SIGN_INS = 20
LOG_PAGE_SIZE = 50
SIGN_IN_KINDS = (
    SecurityEventKind.SIGN_IN,
    SecurityEventKind.SIGN_IN_FAILED,
    SecurityEventKind.LOCKED_OUT,
    SecurityEventKind.SECOND_FACTOR,
    SecurityEventKind.SECOND_FACTOR_FAILED,
)


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "home"


def _show_recovery_codes(request, codes: list[str]):
    """The codes are shown once, on this response only (never stored in the clear elsewhere,
    never cached: clinic.middleware.NoStoreMiddleware)."""
    return render(request, "clinic/account/recovery_codes.html", {"codes": codes})


def security(request):
    """The user's own sign-ins and second factors, and "sign out everywhere"."""
    user = request.user
    sign_ins = SecurityEvent.objects.filter(user=user, kind__in=SIGN_IN_KINDS).order_by(
        "-at", "-pk"
    )[:RECENT_SIGN_INS]
    return render(
        request,
        "clinic/account/security.html",
        {
            "sign_ins": sign_ins,
            "factors": two_factor.second_factors_of(user),
            "required": two_factor.required_of(user),
        },
    )


@require_POST
def sign_out_everywhere(request):
    services.sign_out_everywhere(user=request.user, request=request)
    logout(request)  # this session is gone too: a fresh, anonymous one replaces it
    return redirect("login")


def _verify_first(request):
    return redirect_to_login(request.get_full_path(), reverse("account:two_factor_verify"))


def two_factor_enrol(request):
    """Set up an authenticator app (scan, then type a code) or a passkey."""
    user = request.user
    if not two_factor.may_change_second_factors(request):
        return _verify_first(request)
    key = two_factor.totp_setup_key(request.session)
    form = TotpEnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.totp_enrol(
                user=user, key=key, code=form.cleaned_data["code"], request=request
            )
        except services.ServiceError as error:
            form.add_error("code", str(error))
        else:
            if codes:
                return _show_recovery_codes(request, codes)
            messages.success(request, "Your authenticator app is set up.")
            return redirect("account:security")
    factors = two_factor.second_factors_of(user)
    return render(
        request,
        "clinic/account/enrol.html",
        {
            "form": form,
            "setup": two_factor.totp_setup(user, key),
            "factors": factors,
            "first": not factors.any,
            "required": request.session.get(SECOND_FACTOR_STEP) == ENROL,
        },
    )


def two_factor_verify(request):
    """The second step of signing in: a code from the app, a recovery code, or a passkey."""
    user = request.user
    if request.session.get(SECOND_FACTOR_STEP) != VERIFY:
        return redirect(_next_url(request))
    form = SecondFactorForm(request.POST or None, initial={"method": "totp"})
    if request.method == "POST" and form.is_valid():
        try:
            verified = two_factor.second_factor_verify(
                user=user,
                method=form.cleaned_data["method"],
                code=form.cleaned_data["code"],
                request=request,
            )
        except services.ServiceError as error:
            form.add_error(None, str(error))
        else:
            if verified:
                return redirect(_next_url(request))
            form.add_error("code", "That code is not right, or was already used. Try again.")
    return render(
        request,
        "clinic/account/verify.html",
        {"form": form, "factors": two_factor.second_factors_of(user), "next": _next_url(request)},
    )


@require_POST
def recovery_codes(request):
    if not two_factor.may_change_second_factors(request):
        return _verify_first(request)
    try:
        codes = two_factor.recovery_codes_make(user=request.user, request=request)
    except services.ServiceError as error:
        messages.error(request, str(error))
        return redirect("account:security")
    return _show_recovery_codes(request, codes)


@require_POST
def two_factor_remove(request):
    if not two_factor.may_change_second_factors(request):
        return _verify_first(request)
    try:
        two_factor.second_factor_remove(user=request.user, request=request)
    except services.ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Two-factor sign-in is off: your password alone signs you in.")
    return redirect("account:security")


# --- Clinic admins ---------------------------------------------------------------------------


@require_POST
@clinic_admin_required
def staff_second_factor_reset(request, user_id: int):
    staff = get_object_or_404(
        selectors.staff_of(request.user.organisation_id, include_inactive=True), pk=user_id
    )
    try:
        two_factor.second_factor_reset(actor=request.user, user=staff, request=request)
    except services.ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"{staff.label}'s second factor is reset and their sessions ended. They set one up "
            "again at their next sign-in.",
        )
    return redirect("clinic:staff_edit", user_id=staff.pk)


@clinic_admin_required
def security_log(request):
    events = (
        SecurityEvent.objects.filter(organisation_id=request.user.organisation_id)
        .select_related("user", "actor")
        .order_by("-at", "-pk")
    )
    page = Paginator(events, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "clinic/account/security_log.html", {"page": page})


@clinic_admin_required
def security_settings(request):
    organisation = request.user.organisation
    form = SecuritySettingsForm(request.POST or None, instance=organisation)
    if request.method == "POST" and form.is_valid():
        services.organisation_security_update(
            actor=request.user,
            two_factor_required=form.cleaned_data["two_factor_required"],
            retention_months=form.cleaned_data["retention_months"],
            request=request,
        )
        messages.success(request, "Security and records settings saved.")
        return redirect("clinic:security_settings")
    return render(request, "clinic/account/security_settings.html", {"form": form})
