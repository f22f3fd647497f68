from django.urls import path

from dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.home, name="home"),
    path("export.csv", views.export_csv, name="export_csv"),
    path("settings/flags/", views.flag_settings, name="flag_settings"),
    path("clients/<int:client_id>/flags/", views.client_flags, name="client_flags"),
    path("clients/<int:client_id>/schedule/", views.schedule, name="schedule"),
    path("clients/<int:client_id>/brief/", views.brief, name="brief"),
    path("programmes/", views.programmes, name="programmes"),
    path("programmes/<int:programme_id>/", views.cohort, name="cohort"),
    path("programmes/<int:programme_id>/export.csv", views.cohort_csv, name="cohort_csv"),
    path("dose-response/", views.dose_response, name="dose_response"),
]
