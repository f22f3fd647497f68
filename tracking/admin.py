"""The Django admin (superusers only) lists tracking rows without their words."""

from django.contrib import admin

from tracking.models import InnerCriticEntry, JournalEntry, PracticeSession, TriggerCategory


@admin.register(TriggerCategory)
class TriggerCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "position")
    list_filter = ("organisation",)


@admin.register(InnerCriticEntry)
class InnerCriticEntryAdmin(admin.ModelAdmin):
    list_display = ("id", "client", "occurred_at", "intensity", "intensity_after", "is_private")
    list_select_related = ("client",)
    raw_id_fields = ("client", "created_by")
    exclude = InnerCriticEntry.TEXT_FIELDS
    readonly_fields = ("reframed_at", "created_at", "updated_at")


@admin.register(PracticeSession)
class PracticeSessionAdmin(admin.ModelAdmin):
    list_display = ("id", "client", "practised_on", "practice_type", "minutes")
    list_select_related = ("client",)
    raw_id_fields = ("client", "created_by")
    exclude = ("note",)


@admin.register(JournalEntry)
class JournalEntryAdmin(admin.ModelAdmin):
    list_display = ("id", "client", "week_start")
    list_select_related = ("client",)
    raw_id_fields = ("client",)
    exclude = ("difficulty", "mindfulness", "common_humanity", "self_kindness")
