from django.urls import path

from tracking import views

app_name = "tracking"
urlpatterns = [
    # The client's own portal pages.
    path("me/", views.my_log, name="my_log"),
    path("me/entries/<int:entry_id>/", views.my_entry, name="my_entry"),
    path("me/entries/<int:entry_id>/reframe/", views.my_reframe, name="my_reframe"),
    path("me/entries/<int:entry_id>/delete/", views.my_entry_delete, name="my_entry_delete"),
    path("me/practice/", views.my_practice, name="my_practice"),
    path("me/practice/<int:practice_id>/note/", views.my_practice_note, name="my_practice_note"),
    path("me/difficult/", views.my_difficult, name="my_difficult"),
    path("me/something-hard/", views.my_something_hard, name="my_something_hard"),
    path("me/journal/", views.my_journal, name="my_journal"),
    path("me/reminders/", views.my_reminders, name="my_reminders"),
    path("me/charts/", views.my_charts, name="my_charts"),
    path("me/export.csv", views.my_export_csv, name="my_export_csv"),
    path("me/export.json", views.my_export_json, name="my_export_json"),
    # Staff pages about one client on their caseload.
    path("clients/<int:client_id>/", views.client_log, name="client_log"),
    path("clients/<int:client_id>/charts/", views.client_charts, name="client_charts"),
    path("triggers/", views.trigger_settings, name="trigger_settings"),
    path(
        "clients/<int:client_id>/entries/new/",
        views.client_entry_create,
        name="client_entry_create",
    ),
]
