from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self) -> None:
        from clinic.timeline import register_settings_link

        register_settings_link("Email delivery", "clinic:email_log")
