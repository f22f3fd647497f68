from django.urls import path

from clinic import account_views

app_name = "account"
urlpatterns = [
    path("security/", account_views.security, name="security"),
    path("sign-out-everywhere/", account_views.sign_out_everywhere, name="sign_out_everywhere"),
    path("two-factor/enrol/", account_views.two_factor_enrol, name="two_factor_enrol"),
    path("two-factor/verify/", account_views.two_factor_verify, name="two_factor_verify"),
    path("two-factor/recovery-codes/", account_views.recovery_codes, name="recovery_codes"),
    path("two-factor/remove/", account_views.two_factor_remove, name="two_factor_remove"),
]
