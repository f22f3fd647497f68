from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = "Tracking"

    def ready(self) -> None:
        from clinic.demo import register_demo_seeder
        from clinic.records import register_derived_models
        from clinic.timeline import (
            register_client_link,
            register_portal_download,
            register_portal_link,
            register_settings_link,
            register_timeline_provider,
        )
        from tracking.demo import TrackingSeeder
        from tracking.selectors import timeline_items

        register_timeline_provider(timeline_items)
        register_client_link("Inner-critic log and practice", "tracking:client_log")
        register_client_link("Progress charts", "tracking:client_charts")
        register_portal_link("Log an inner-critic moment", "tracking:my_log")
        register_portal_link("Practice log", "tracking:my_practice")
        register_portal_link("Weekly journal", "tracking:my_journal")
        register_portal_link("My progress", "tracking:my_charts")
        register_portal_download("Inner-critic entries (CSV)", "tracking:my_export_csv")
        register_portal_download(
            "Everything: entries, practice and journal (JSON)", "tracking:my_export_json"
        )
        register_portal_link("Reminders", "tracking:my_reminders")
        register_settings_link("Trigger categories", "tracking:trigger_settings")
        register_demo_seeder(TrackingSeeder())
        register_derived_models("tracking.ClientDay", "tracking.ClientActivity")
