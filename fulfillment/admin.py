from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from . import (
    admin_ops,  # noqa: F401  (scheduled jobs and the beat schedule page)
    admin_webhooks,  # noqa: F401  (webhook subscriptions and the delivery log)
)
from .api.auth import api_client_create
from .models import ApiClient, Heartbeat, IdempotencyRecord, StaffSpecialty, User


class SpecialtyInline(admin.TabularInline):
    model = StaffSpecialty
    extra = 0


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    list_display = ("username", "first_name", "last_name", "tier", "language", "is_active", "is_superuser")
    list_filter = ("tier", "language", "is_active", "is_superuser")
    fieldsets = (
        *UserAdmin.fieldsets,
        (_("Desk"), {"fields": ("tier", "language")}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        (_("Desk"), {"fields": ("tier", "language")}),
    )
    inlines = [SpecialtyInline]


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "at")
    readonly_fields = ("name", "at")


@admin.register(StaffSpecialty)
class StaffSpecialtyAdmin(admin.ModelAdmin):
    list_display = ("user", "specialty")
    list_filter = ("specialty",)
    list_select_related = ("user",)


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """Create a client here: the key is shown once, in the message after saving. Revoke by setting
    'revoked'. Keys are stored only as a hash."""

    list_display = ("name", "key_prefix", "scopes", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("key_prefix", "created_at", "last_used_at")
    fields = ("name", "scopes", "key_prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        client, key = api_client_create(name=obj.name, scopes=list(obj.scopes or ["read"]))
        obj.pk = client.pk
        self.message_user(request, _("API key for %(name)s (shown once): %(key)s") % {"name": client.name, "key": key})

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        from . import clock

        queryset.filter(revoked_at__isnull=True).update(revoked_at=clock.now())


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("owner", "key", "status_code", "created_at")
    readonly_fields = ("owner", "key", "fingerprint", "status_code", "response_body", "response_headers", "created_at")

    def has_add_permission(self, request):
        return False
