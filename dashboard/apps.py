from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Dashboard"

    def ready(self) -> None:
        from clinic.timeline import register_client_link, register_settings_link

        register_client_link("Session brief", "dashboard:brief")
        register_client_link("Assessment schedule", "dashboard:schedule")
        register_settings_link("Dashboard flags", "dashboard:flag_settings")
