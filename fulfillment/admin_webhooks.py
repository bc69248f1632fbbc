"""Admin for outbound webhooks: the subscriptions of API clients and, per subscription, the
delivery log (every try of every delivery) with a "Redeliver" action.

Endpoints are entered here by staff (docs/webhooks.md): only http and https URLs are accepted.
The signing secret is made when the subscription is created and shown read-only on its page so
it can be handed to the client; "Make a new signing secret" replaces it.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import webhooks
from .errors import InvalidInput
from .models import WebhookAttempt, WebhookDelivery, WebhookEventType, WebhookSubscription


def _each(queryset, service) -> int:
    """Run an admin action's service on every selected row, in a fixed order; how many."""
    rows = list(queryset.order_by("pk"))
    for row in rows:
        service(row)
    return len(rows)


class SubscriptionForm(forms.ModelForm):
    url = forms.URLField(label=_("endpoint URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("events"),
        choices=WebhookEventType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Which events to send; none ticked: all of them."),
    )

    class Meta:
        model = WebhookSubscription
        fields = ("client", "url", "events", "active", "description")

    def clean_url(self) -> str:
        try:
            return webhooks.check_url(self.cleaned_data["url"])
        except InvalidInput as error:
            raise ValidationError(error.field_errors["url"]) from error


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ("client", "url", "chosen_events", "active", "created_at", "delivery_log")
    list_filter = ("active", "client")
    list_select_related = ("client",)
    search_fields = ("url", "client__name", "description")
    actions = ["rotate_secret"]

    def get_fields(self, request, obj=None):
        fields = ["client", "url", "events", "active", "description"]
        return [*fields, "secret", "created_at", "delivery_log"] if obj else fields

    def get_readonly_fields(self, request, obj=None):
        return ("secret", "created_at", "delivery_log") if obj else ()

    @admin.display(description=_("events"))
    def chosen_events(self, obj: WebhookSubscription) -> str:
        if not obj.events:
            return _("all")
        labels = dict(WebhookEventType.choices)
        return ", ".join(str(labels.get(name, name)) for name in obj.events)

    @admin.display(description=_("delivery log"))
    def delivery_log(self, obj: WebhookSubscription):
        url = reverse("admin:fulfillment_webhookdelivery_changelist") + f"?subscription__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Deliveries"))

    def save_model(self, request, obj, form, change):
        if not change:
            made = webhooks.subscription_create(
                client=obj.client, url=obj.url, events=obj.events, active=obj.active, description=obj.description
            )
            obj.pk, obj.secret, obj.created_at = made.pk, made.secret, made.created_at
            return
        fields = [name for name in form.changed_data if name in SubscriptionForm.Meta.fields]
        if fields:
            webhooks.subscription_save(subscription=obj, fields=fields)

    @admin.action(description=_("Make a new signing secret"), permissions=["change"])
    def rotate_secret(self, request, queryset):
        count = _each(queryset, lambda subscription: webhooks.subscription_rotate_secret(subscription=subscription))
        self.message_user(
            request,
            ngettext(
                "%(n)d subscription has a new secret: give it to the client.",
                "%(n)d subscriptions have a new secret: give them to the clients.",
                count,
            )
            % {"n": count},
            messages.SUCCESS,
        )


class SubscriptionFilter(admin.SimpleListFilter):
    """By subscription (the delivery log of one), named with their clients in one query."""

    title = _("subscription")
    parameter_name = "subscription__id__exact"

    def lookups(self, request, model_admin):
        return [(str(s.pk), str(s)) for s in WebhookSubscription.objects.select_related("client")]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(subscription_id=int(value))
        return queryset


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("at", "status", "error", "duration_ms", "response_excerpt")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: read-only; "Redeliver" sends the selected deliveries again."""

    list_display = (
        "created_at",
        "event_type",
        "event_ref",
        "subscription",
        "state",
        "attempts",
        "last_status",
        "short_error",
        "delivered_at",
    )
    list_filter = ("state", SubscriptionFilter, "event__type")
    list_select_related = ("event", "subscription__client")
    search_fields = ("=event__ref",)
    search_help_text = _("What the event is about, exactly: order:42 or inquiry:7.")
    ordering = ("-created_at", "-id")
    fields = (
        "subscription",
        "state",
        "round",
        "attempts",
        "last_status",
        "last_error",
        "created_at",
        "delivered_at",
        "event_type",
        "event_id",
        "payload",
    )
    readonly_fields = fields
    inlines = [AttemptInline]
    actions = ["redeliver"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("event", "subscription__client")

    @admin.display(description=_("event"), ordering="event__type")
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.type

    @admin.display(description=_("about"))
    def event_ref(self, obj: WebhookDelivery) -> str:
        return obj.event.ref

    @admin.display(description=_("event id"))
    def event_id(self, obj: WebhookDelivery) -> str:
        return str(obj.event.event_id)

    @admin.display(description=_("last error"))
    def short_error(self, obj: WebhookDelivery) -> str:
        return obj.last_error[:120]

    @admin.display(description=_("payload"))
    def payload(self, obj: WebhookDelivery):
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', json.dumps(obj.event.payload, indent=2))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # read-only, but the action-free page must not offer "Save" to people who may change
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Redeliver (send again now)"), permissions=["change"])
    def redeliver(self, request, queryset):
        count = _each(queryset, lambda delivery: webhooks.redeliver(delivery=delivery))
        self.message_user(
            request,
            ngettext(
                "%(n)d delivery will be sent again.",
                "%(n)d deliveries will be sent again.",
                count,
            )
            % {"n": count},
            messages.SUCCESS,
        )
