from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from . import (
    admin_ops,  # noqa: F401  (scheduled jobs and the beat schedule page)
    admin_webhooks,  # noqa: F401  (webhook subscriptions and the delivery log)
)
from .actors import as_actor
from .api.auth import api_client_create
from .models import ApiClient, Heartbeat, IdempotencyRecord, StaffSpecialty, Team, User
from .permissions import Rule, can
from .tiers import Tier


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
        (_("Desk"), {"fields": ("tier", "team", "language", "weekly_report")}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        (_("Desk"), {"fields": ("tier", "team", "language", "weekly_report")}),
    )
    inlines = [SpecialtyInline]


#: Supervisors keep the teams (the reports filter by them); superusers may too.
MANAGE_TEAMS = Rule("fulfillment.manage_teams", min_tier=Tier.SUPERVISOR, api_scope=None)


def may_manage_teams(request) -> bool:
    return request.user.is_superuser or can(as_actor(request.user), MANAGE_TEAMS)


def _staff():
    return User.objects.filter(is_active=True, tier__isnull=False).order_by("username")


class TeamForm(forms.ModelForm):
    members = forms.ModelMultipleChoiceField(
        label=_("members"),
        queryset=_staff(),
        required=False,
        widget=FilteredSelectMultiple(_("members"), is_stacked=False),
        help_text=_("A person belongs to one team at most: choosing someone here moves them from their old team."),
    )

    class Meta:
        model = Team
        fields = ("name", "lead", "members")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = _staff()
        self.fields["members"].queryset = _staff()
        if self.instance.pk:
            self.fields["members"].initial = list(self.instance.members.values_list("pk", flat=True))


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    """Teams, with their members chosen here (the admin's change log records who changed what)."""

    form = TeamForm
    list_display = ("name", "lead", "member_count", "created_at")
    search_fields = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("lead").annotate(member_count=Count("members"))

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, team) -> int:
        return team.member_count

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        chosen = [user.pk for user in form.cleaned_data.get("members", [])]
        team = form.instance
        User.objects.filter(team=team).exclude(pk__in=chosen).update(team=None)
        User.objects.filter(pk__in=chosen).update(team=team)

    def has_module_permission(self, request) -> bool:
        return may_manage_teams(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return may_manage_teams(request)

    def has_add_permission(self, request) -> bool:
        return may_manage_teams(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return may_manage_teams(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return may_manage_teams(request)


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
