from django.urls import path

from assessments import views

app_name = "assessments"
urlpatterns = [
    path("clients/<int:client_id>/", views.client_assessments, name="client_assessments"),
    path("clients/<int:client_id>/enter/<slug:instrument>/", views.entry, name="entry"),
    path("clients/<int:client_id>/links/", views.link_create, name="link_create"),
    path("links/<int:pk>/revoke/", views.link_revoke, name="link_revoke"),
    path("clients/<int:client_id>/export.csv", views.export_csv, name="export_csv"),
    path("settings/", views.rc_settings, name="rc_settings"),
    path("settings/delivery/", views.delivery_settings, name="delivery_settings"),
    path("import/", views.import_upload, name="import_upload"),
    path("export.csv", views.export_cohort_csv, name="export_cohort_csv"),
    path("<int:pk>/", views.results, name="results"),
    path("<int:pk>/correct/", views.correct, name="correct"),
    path("<int:pk>/fhir.json", views.fhir_export, name="fhir_export"),
    path("me/", views.portal_list, name="portal_list"),
    path("me/<int:pk>/", views.portal_results, name="portal_results"),
    path("me/complete/<slug:instrument>/", views.portal_complete, name="portal_complete"),
]
