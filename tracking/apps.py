from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = "Tracking"

    def ready(self) -> None:
        from clinic.demo import register_demo_seeder
        from clinic.timeline import (
            register_client_link,
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
        register_portal_link("Reminders", "tracking:my_reminders")
        register_settings_link("Trigger categories", "tracking:trigger_settings")
        register_demo_seeder(TrackingSeeder())
