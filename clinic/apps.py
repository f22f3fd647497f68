from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self) -> None:
        # The security log's handlers of the sign-in signals (Django's and axes').
        from clinic import security  # noqa: F401
        from clinic.timeline import register_settings_link

        register_settings_link("Email delivery", "clinic:email_log")
        from clinic import checks  # noqa: F401 - registers the system checks
