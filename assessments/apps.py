from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = "Assessments"

    def ready(self) -> None:
        from assessments.demo import AssessmentSeeder
        from assessments.selectors import timeline_provider
        from clinic.demo import register_demo_seeder
        from clinic.records import register_derived_models
        from clinic.timeline import (
            register_client_link,
            register_portal_link,
            register_settings_link,
            register_timeline_provider,
        )

        register_timeline_provider(timeline_provider)
        register_client_link("Assessments", "assessments:client_assessments")
        register_portal_link("My questionnaires", "assessments:portal_list")
        register_settings_link("Reliable-change settings", "assessments:rc_settings")
        register_settings_link("Scheduled questionnaires", "assessments:delivery_settings")
        register_settings_link("Import paper assessments", "assessments:import_upload")
        register_settings_link("Export scores (CSV)", "assessments:export_cohort_csv")
        register_demo_seeder(AssessmentSeeder())
        register_derived_models(
            "assessments.ScoreSummary", "assessments.DoseDay", "assessments.ScoreInterval"
        )
