"""Browser forms: they check the shape of input; the rules live in services."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fulfillment.errors import DomainError

from .enums import CustomerTier, Department, HandoffState, ServiceLevel
from .models import Customer
from .services import CUSTOMER_FIELDS, MAX_MONEY, MAX_QUANTITY


def apply_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal on the form: on its field where it names one, else above the form."""
    placed = False
    for field, messages in error.field_errors.items():
        name = field.rsplit(".", 1)[-1]
        for message in messages:
            if name in form.fields:
                form.add_error(name, message)
                placed = True
            else:  # e.g. "lines" on the order form: still say what is wrong
                form.add_error(None, message)
    if not placed or not error.field_errors:
        form.add_error(None, error.message)


class VersionedForm(forms.Form):
    """Carries the order version the page showed, so a stale page cannot overwrite."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


class EmptyActionForm(VersionedForm):
    pass


class ShipForm(VersionedForm):
    carrier = forms.CharField(label=_("Carrier"), max_length=60)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=80)
    service_level = forms.ChoiceField(
        label=_("Service level"), choices=ServiceLevel.choices, initial=ServiceLevel.STANDARD
    )


class ReasonForm(VersionedForm):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class OptionalReasonForm(VersionedForm):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class ExpediteForm(VersionedForm):
    reason = forms.CharField(label=_("Why"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    requested_by = forms.CharField(
        label=_("Asked for by"), max_length=150, help_text=_("The customer, or who in the company.")
    )


class NoteForm(VersionedForm):
    text = forms.CharField(label=_("Note"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


money_validators = [MinValueValidator(Decimal("0.01")), MaxValueValidator(MAX_MONEY)]


class PaymentForm(VersionedForm):
    amount = forms.DecimalField(label=_("Amount"), max_digits=12, decimal_places=2, validators=money_validators)
    reference = forms.CharField(label=_("Payment reference"), max_length=100, required=False)


class RefundForm(VersionedForm):
    amount = forms.DecimalField(label=_("Amount"), max_digits=12, decimal_places=2, validators=money_validators)
    reason = forms.CharField(label=_("Reason"), max_length=500)
    reference = forms.CharField(label=_("Refund reference"), max_length=100, required=False)


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class HandoffForm(VersionedForm):
    department = forms.ChoiceField(label=_("Department"), choices=Department.choices)
    summary = forms.CharField(label=_("What is needed"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    owner = StaffChoiceField(label=_("Owner"), required=False, queryset=get_user_model().objects.none())
    due_date = forms.DateField(label=_("Due"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        staff = Q(tier__isnull=False) | Q(is_superuser=True)
        self.fields["owner"].queryset = get_user_model().objects.filter(staff, is_active=True).order_by("username")


class HandoffStateForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), choices=HandoffState.choices)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class OrderDatesForm(VersionedForm):
    ship_by = forms.DateField(label=_("Ship by"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    deliver_by = forms.DateField(label=_("Deliver by"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("ship_by") and data.get("deliver_by") and data["ship_by"] > data["deliver_by"]:
            self.add_error("deliver_by", _("Must be on or after the ship-by date."))
        return data


class CustomerForm(forms.ModelForm):
    """Customer details. ``version`` is what the page showed: a stale page cannot overwrite."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["version"] = self.instance.version
        self.fields["tier"].required = False  # a form without it keeps the customer's tier

    def clean_tier(self):
        return self.cleaned_data.get("tier") or self.instance.tier or CustomerTier.STANDARD

    class Meta:
        model = Customer
        fields = list(CUSTOMER_FIELDS)
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class OrderCreateForm(forms.Form):
    currency = forms.CharField(label=_("Currency"), min_length=3, max_length=3, initial="USD")
    ship_by = forms.DateField(label=_("Ship by"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    deliver_by = forms.DateField(label=_("Deliver by"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean_currency(self):
        value = self.cleaned_data["currency"].upper()
        if not value.isalpha():
            raise forms.ValidationError(_("Use a three-letter currency code, e.g. USD."))
        return value

    def clean(self):
        data = super().clean()
        if data.get("ship_by") and data.get("deliver_by") and data["ship_by"] > data["deliver_by"]:
            self.add_error("deliver_by", _("Must be on or after the ship-by date."))
        return data


class OrderLineForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY)
    unit_price = forms.DecimalField(
        label=_("Unit price"), max_digits=12, decimal_places=2, min_value=Decimal("0"), max_value=MAX_MONEY
    )


OrderLineFormSet = forms.formset_factory(
    OrderLineForm, extra=3, min_num=1, validate_min=True, max_num=100, validate_max=True
)
