from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from . import (
    admin_ops,  # noqa: F401  (scheduled jobs and the beat schedule page)
    admin_webhooks,  # noqa: F401  (webhook subscriptions and the delivery log)
)
from .api.auth import api_client_create
from .models import ApiClient, Heartbeat, IdempotencyRecord, StaffSpecialty, Team, User


class SpecialtyInline(admin.TabularInline):
    model = StaffSpecialty
    extra = 0


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    list_display = ("username", "first_name", "last_name", "tier", "team", "language", "is_active", "is_superuser")
    list_filter = ("tier", "team", "language", "is_active", "is_superuser")
    list_select_related = ("team",)
    fieldsets = (
        *UserAdmin.fieldsets,
        (_("Desk"), {"fields": ("tier", "team", "language")}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        (_("Desk"), {"fields": ("tier", "team", "language")}),
    )
    inlines = [SpecialtyInline]


class MemberInline(admin.TabularInline):
    model = User
    fk_name = "team"
    fields = ("username", "first_name", "last_name", "tier")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = _("member")
    verbose_name_plural = _("members (set a person's team on their staff page)")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "lead", "member_count", "created_at")
    search_fields = ("name",)
    autocomplete_fields = ("lead",)
    inlines = [MemberInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("lead").annotate(member_count=Count("members"))

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, team) -> int:
        return team.member_count


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
