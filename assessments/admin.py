"""Admin views (superusers only) for support: read-mostly; answers and scores are not edited
here, corrections go through the correction form so the audit trail stays whole."""

from django.contrib import admin

from assessments.models import (
    Administration,
    AnswerCorrection,
    ItemWording,
    OneTimeLink,
    ReliableChangeSetting,
    Score,
)


class ScoreInline(admin.StackedInline):
    model = Score
    can_delete = False
    readonly_fields = [f.name for f in Score._meta.fields]
    extra = 0


class CorrectionInline(admin.TabularInline):
    model = AnswerCorrection
    can_delete = False
    readonly_fields = [f.name for f in AnswerCorrection._meta.fields]
    extra = 0


@admin.register(Administration)
class AdministrationAdmin(admin.ModelAdmin):
    list_display = ["pk", "client", "instrument_code", "administered_on", "mode", "status"]
    list_filter = ["instrument_code", "mode", "status"]
    search_fields = ["client__code"]
    list_select_related = ["client"]
    readonly_fields = ["answers", "organisation", "client", "entered_by", "created_at"]
    inlines = [ScoreInline, CorrectionInline]


@admin.register(OneTimeLink)
class OneTimeLinkAdmin(admin.ModelAdmin):
    list_display = ["pk", "client", "instrument_code", "created_at", "expires_at", "used_at"]
    readonly_fields = ["token_hash", "client", "organisation", "administration", "created_by"]
    list_select_related = ["client"]


@admin.register(ItemWording)
class ItemWordingAdmin(admin.ModelAdmin):
    list_display = ["organisation", "instrument_code", "instrument_version", "source", "loaded_at"]


@admin.register(ReliableChangeSetting)
class ReliableChangeSettingAdmin(admin.ModelAdmin):
    list_display = ["organisation", "instrument_code", "scale", "reference_sd", "source"]
