"""Passkeys through django-otp-webauthn's own views (its JSON endpoints and its static script),
with three things added: the session key rotates when a passkey steps the session up, a passkey
can only verify the user already signed in with their password (passkeys are a second factor
here, never a way round the password), and the security log records each ceremony."""

from __future__ import annotations

from django.urls import path
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn import exceptions
from django_otp_webauthn import views as webauthn

from clinic import two_factor


class BeginRegistration(webauthn.BeginCredentialRegistrationView):
    pass


class CompleteRegistration(webauthn.CompleteCredentialRegistrationView):
    def post(self, *args, **kwargs):
        was_verified = self.request.user.is_verified()
        response = super().post(*args, **kwargs)
        # The library marked the session verified with the new passkey if it was not already;
        # a step up gets a new session key, as at the password step.
        if not was_verified and self.request.user.is_verified():
            two_factor.session_verified(self.request, self.request.user.otp_device)
        two_factor.passkey_enrolled(user=self.request.user, request=self.request)
        return response


class AfterPasswordOnly:
    """A passkey verifies the user already signed in with their password; never anyone else."""

    def check_can_authenticate(self):
        if not self.request.user.is_authenticated:
            raise exceptions.PasswordlessLoginDisabled()
        super().check_can_authenticate()


class BeginAuthentication(AfterPasswordOnly, webauthn.BeginCredentialAuthenticationView):
    pass


class CompleteAuthentication(AfterPasswordOnly, webauthn.CompleteCredentialAuthenticationView):
    def check_device_usable(self, device):
        if device.user_id != self.request.user.pk:
            raise exceptions.CredentialNotFound()
        super().check_device_usable(device)

    def complete_auth(self, device):
        two_factor.passkey_verified(request=self.request, device=device)

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.OTPWebAuthnApiError) and self.request.user.is_authenticated:
            two_factor.passkey_refused(request=self.request)
        return super().handle_exception(exc)


app_name = "otp_webauthn"  # the names django-otp-webauthn's template tags reverse
urlpatterns = [
    path(route, view.as_view(), name=name)
    for route, view, name in (
        ("registration/begin/", BeginRegistration, "credential-registration-begin"),
        ("registration/complete/", CompleteRegistration, "credential-registration-complete"),
        ("authentication/begin/", BeginAuthentication, "credential-authentication-begin"),
        ("authentication/complete/", CompleteAuthentication, "credential-authentication-complete"),
    )
] + [
    path(
        "jsi18n/",
        JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
        name="js-i18n-catalog",
    ),
]
