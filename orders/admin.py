"""Back-office views. Audited rows are read-only here; changes go through the desk, whose
services record the timeline. Customer edits in the admin go through the same services."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from fulfillment.actors import Actor

from . import services
from .models import (
    Customer,
    CustomerEvent,
    CustomerExternalRef,
    Handoff,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Shipment,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ExternalRefInline(ReadOnlyInline):
    model = CustomerExternalRef


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "phone", "tier", "preferred_language", "preferred_channel", "created_at")
    list_filter = ("tier", "preferred_language", "preferred_channel")
    search_fields = ("name", "email", "phone_digits")
    fields = services.CUSTOMER_FIELDS
    inlines = [ExternalRefInline]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in services.CUSTOMER_FIELDS}
        actor = Actor.for_user(request.user)
        if change:
            saved = services.customer_update(actor=actor, customer=obj, **data)
        else:
            saved = services.customer_create(actor=actor, **data)
        obj.pk = saved.pk


class LineInline(ReadOnlyInline):
    model = OrderLine


class PaymentInline(ReadOnlyInline):
    model = Payment


class ShipmentInline(ReadOnlyInline):
    model = Shipment


class HandoffInline(ReadOnlyInline):
    model = Handoff
    fields = ("department", "summary", "owner", "due_date", "state")


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("number", "customer", "status", "total", "currency", "payment_status", "expedite", "placed_at")
    list_filter = ("status", "payment_status", "expedite", "source")
    list_select_related = ("customer",)
    search_fields = ("=number", "=external_ref")
    show_full_result_count = False
    inlines = [LineInline, PaymentInline, ShipmentInline, HandoffInline]


@admin.register(OrderLine)
class OrderLineAdmin(ReadOnlyAdmin):
    list_display = ("order", "sku", "quantity", "unit_price")
    list_select_related = ("order",)
    search_fields = ("=sku",)
    show_full_result_count = False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("order", "kind", "amount", "reference", "actor_name", "created_at")
    list_select_related = ("order",)
    list_filter = ("kind",)


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdmin):
    list_display = ("order", "carrier", "service_level", "tracking_number", "status", "shipped_at")
    list_select_related = ("order",)
    list_filter = ("status", "service_level")
    search_fields = ("=tracking_number",)


@admin.register(Handoff)
class HandoffAdmin(ReadOnlyAdmin):
    list_display = ("order", "department", "summary", "owner", "due_date", "state")
    list_select_related = ("order", "owner")
    list_filter = ("department", "state")


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "order", "type", "actor_kind", "actor_name")
    list_select_related = ("order",)
    list_filter = ("type", "actor_kind")
    show_full_result_count = False


@admin.register(CustomerEvent)
class CustomerEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "customer", "type", "actor_kind", "actor_name")
    list_select_related = ("customer",)
    list_filter = ("type",)


@admin.register(CustomerExternalRef)
class CustomerExternalRefAdmin(ReadOnlyAdmin):
    list_display = ("customer", "source", "external_ref")
    list_select_related = ("customer",)


admin.site.site_header = _("Fulfillment Desk administration")
admin.site.site_title = _("Fulfillment Desk")
