"""Django admin for inquiries: read-mostly. Inquiries change through the desk, whose services
record the timeline; templates and tags are edited here. Inbound mail lives in admin_mail.py."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from orders.admin import ReadOnlyAdmin, ReadOnlyInline

# register InboundMailAdmin, the service-target admins, and follow-up delays / settings / calls
from . import admin_mail, admin_schedule, admin_targets  # noqa: F401
from .models import Callback, Inquiry, InquiryEvent, PlanStep, Remedy, ResponseTemplate, Tag
from .services.compose import PLACEHOLDERS


class RemedyInline(ReadOnlyInline):
    model = Remedy
    fields = ("kind", "state", "amount", "currency", "order", "reason", "proposed_by_name", "decided_at")


class PlanStepInline(ReadOnlyInline):
    model = PlanStep
    fields = ("position", "title", "owner", "due_date", "done_at")


class EventInline(ReadOnlyInline):
    model = InquiryEvent
    fields = ("created_at", "type", "actor_name", "details")
    ordering = ("-created_at", "-id")


@admin.register(Inquiry)
class InquiryAdmin(ReadOnlyAdmin):
    list_display = ("reference", "subject", "customer", "status", "priority", "channel", "tier", "assignee", "due_at")
    list_filter = ("status", "channel", "category", "priority", "tier")
    search_fields = ("subject", "customer__name", "customer__email")
    list_select_related = ("customer", "assignee")
    raw_id_fields = ("customer", "assignee")
    inlines = [RemedyInline, PlanStepInline, EventInline]
    show_full_result_count = False

    @admin.display(description=_("reference"), ordering="id")
    def reference(self, obj):
        return obj.reference


@admin.register(Callback)
class CallbackAdmin(ReadOnlyAdmin):
    list_display = ("inquiry", "due_at", "state", "owner", "promised_by_name")
    list_filter = ("state",)
    list_select_related = ("inquiry", "owner")


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "language", "category", "active")
    list_filter = ("language", "category", "active")
    search_fields = ("name", "body")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.base_fields["body"].help_text = _("Placeholders: %(names)s.") % {
            "names": ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        }
        return form


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)
