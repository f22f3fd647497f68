from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from assessments import views as assessment_views
from clinic import views as clinic_views

# A write to a discharged client's portal gets its own explanation (clinic.access.PortalReadOnly).
handler403 = "clinic.views.permission_denied"

urlpatterns = [
    path("", clinic_views.home, name="home"),
    path("floor/", clinic_views.floor, name="floor"),
    path("login/", clinic_views.SelfkindLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(),
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
    path("t/a/<str:token>/help/", assessment_views.link_help, name="assessment_link_help"),
    path("", include("clinic.urls")),
    path("assessments/", include("assessments.urls")),
    path("tracking/", include("tracking.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("admin/", admin.site.urls),
]
