from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Dashboard"

    def ready(self) -> None:
        from clinic.records import register_erasure_check, register_export_file
        from clinic.timeline import register_client_link, register_settings_link
        from dashboard.selectors import flags_today, open_deterioration

        register_client_link("Session brief", "dashboard:brief")
        register_client_link("Assessment schedule", "dashboard:schedule")
        register_settings_link("Dashboard flags", "dashboard:flag_settings")
        register_export_file("flags_today.json", flags_today)
        register_erasure_check(open_deterioration)
