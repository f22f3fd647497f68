from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from assessments import views as assessment_views
from clinic import views as clinic_views
from config import health

# A write to a discharged client's portal gets its own explanation (clinic.access.PortalReadOnly).
handler403 = "clinic.views.permission_denied"

urlpatterns = [
    path("", clinic_views.home, name="home"),
    path("floor/", clinic_views.floor, name="floor"),
    # For the load balancer: up, and ready for traffic (open without login; see config/health).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("login/", clinic_views.SelfkindLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/change/",
        clinic_views.SelfkindPasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # Every URL that carries a secret lives under /t/, whose paths are redacted from logs.
    path(
        "t/invite/<uidb64>/<token>/",
        clinic_views.InviteAcceptView.as_view(),
        name="invite_accept",
    ),
    path("t/a/<str:token>/", assessment_views.link_complete, name="assessment_link"),
    path(
        "t/reset/<uidb64>/<token>/",
        clinic_views.PasswordResetLinkView.as_view(),
        name="password_reset_confirm",
    ),
    path("t/unsubscribe/<uuid:ref>/", clinic_views.unsubscribe, name="unsubscribe"),
    path(
        "password/reset/",
        clinic_views.PasswordResetRequestView.as_view(),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="registration/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="registration/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("t/a/<str:token>/help/", assessment_views.link_help, name="assessment_link_help"),
    path("", include("clinic.urls")),
    path("account/", include("clinic.account_urls")),
    path("account/passkeys/", include("clinic.passkeys")),
    path("assessments/", include("assessments.urls")),
    path("tracking/", include("tracking.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("admin/", admin.site.urls),
]
