from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Heartbeat, StaffSpecialty, User


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
