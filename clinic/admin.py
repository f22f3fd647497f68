"""Django admin, for superusers only (clinic staff work in the app, where access is scoped)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from clinic.models import (
    AuditEvent,
    Client,
    Organisation,
    Programme,
    RecordErasure,
    SecurityEvent,
    Tag,
    User,
)


def _superusers_only(request) -> bool:
    return request.user.is_active and request.user.is_superuser


admin.site.has_permission = _superusers_only
admin.site.site_header = "Selfkind administration"


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "time_zone"]
    prepopulated_fields = {"slug": ["name"]}

    def get_readonly_fields(self, request, obj=None):
        """A clinic's time zone is set when it is created. Moving it later moves every
        clinic-local day its projections hold, which only `manage.py clinic_time_zone` does
        (it rebuilds them in the same transaction); saved here, the projections would keep
        the old zone's days."""
        return ["time_zone"] if obj is not None else []


@admin.register(User)
class SelfkindUserAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "organisation", "role", "is_active"]
    list_filter = ["organisation", "role", "is_active", "is_superuser"]
    fieldsets = (*UserAdmin.fieldsets, ("Selfkind", {"fields": ["organisation", "role"]}))


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["code", "organisation", "status", "primary_clinician", "intake_date"]
    list_filter = ["organisation", "status"]
    search_fields = ["code"]
    # Free-text notes are left out of the admin on purpose: they belong to the care team.
    exclude = ["notes"]
    raw_id_fields = ["primary_clinician", "user"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation"]


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "starts_on", "ends_on"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Append-only trails: nothing is added, changed or deleted through the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "organisation", "user", "kind", "method", "actor", "browser", "network"]
    list_filter = ["organisation", "kind"]


@admin.register(RecordErasure)
class RecordErasureAdmin(ReadOnlyAdmin):
    list_display = ["erased_at", "organisation", "former_id", "erased_by", "reason"]
    list_filter = ["organisation"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "organisation", "actor", "action", "subject", "client"]
    list_filter = ["organisation", "action", "subject"]
