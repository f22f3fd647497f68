from django.urls import path

from clinic import account_views, record_views, views

app_name = "clinic"
urlpatterns = [
    path("clients/", views.caseload, name="caseload"),
    path("clients/new/", views.client_create, name="client_create"),
    path("clients/<int:client_id>/", views.client_detail, name="client_detail"),
    path("clients/<int:client_id>/edit/", views.client_edit, name="client_edit"),
    path("clients/<int:client_id>/discharge/", views.client_discharge, name="client_discharge"),
    path("clients/<int:client_id>/reactivate/", views.client_reactivate, name="client_reactivate"),
    path("clients/<int:client_id>/care-team/", views.client_care_team, name="client_care_team"),
    path(
        "clients/<int:client_id>/portal-invite/",
        views.client_portal_invite,
        name="client_portal_invite",
    ),
    path("clients/<int:client_id>/audit/", views.client_audit, name="client_audit"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/invite/", views.staff_invite, name="staff_invite"),
    path("staff/<int:user_id>/", views.staff_edit, name="staff_edit"),
    path(
        "staff/<int:user_id>/reset-second-factor/",
        account_views.staff_second_factor_reset,
        name="staff_second_factor_reset",
    ),
    path("settings/", views.clinic_settings, name="settings"),
    path("settings/security/", account_views.security_settings, name="security_settings"),
    path("security-log/", account_views.security_log, name="security_log"),
    path("clients/<int:client_id>/export/", record_views.client_export, name="client_export"),
    path("clients/<int:client_id>/erase/", record_views.client_erase, name="client_erase"),
    path("records/retention/", record_views.retention, name="retention"),
    path("settings/emails/", views.email_log, name="email_log"),
    path("settings/crisis/", views.crisis_contacts, name="crisis_contacts"),
    path("settings/crisis/<int:pk>/", views.crisis_contact_edit, name="crisis_contact_edit"),
    path(
        "settings/crisis/<int:pk>/delete/",
        views.crisis_contact_delete,
        name="crisis_contact_delete",
    ),
    path("clients/safety/<int:pk>/", views.safety_signal, name="safety_signal"),
    path("me/", views.portal_home, name="portal_home"),
    path("me/help/", views.portal_help, name="portal_help"),
]
