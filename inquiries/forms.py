"""Browser forms for inquiries: they check the shape of input; the rules live in services."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from fulfillment.tiers import Specialty
from orders.enums import Department
from orders.forms import VersionedForm, apply_domain_error  # noqa: F401  (one way to show refusals)

from .enums import CallDirection, CallOutcome, Category, Channel, InquiryStatus, Priority, RemedyKind, RemedyState
from .models import ResponseTemplate

DATETIME_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_DURATION = re.compile(r"^\s*(?:(\d{1,3}):)?(\d{1,5})\s*$")


def staff_choices():
    return get_user_model().objects.filter(is_active=True, tier__isnull=False).order_by("username")


def staff_label(user) -> str:
    """How a staff member is offered in a choice: their name and role."""
    return f"{user.get_full_name() or user.get_username()} · {user.role_label}"


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return staff_label(obj)


class DurationField(forms.CharField):
    """A call's length as "m:ss" or whole minutes ("7" = 7 minutes)."""

    default_error_messages = {"invalid": _("Enter minutes, or minutes:seconds (e.g. 4:30).")}

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return 0
        match = _DURATION.match(value)
        if not match:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        minutes, rest = match.groups()
        seconds = int(minutes) * 60 + int(rest) if minutes is not None else int(rest) * 60
        if seconds > 24 * 3600 or (minutes is not None and int(rest) > 59):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return seconds


def _orders_field():
    return forms.CharField(
        label=_("Order numbers"),
        required=False,
        max_length=500,
        help_text=_("Separate several with spaces or commas."),
    )


def split_numbers(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text or "") if part][:20]


# --- intake ------------------------------------------------------------------------------------


class CallForm(forms.Form):
    """The "new call" screen: one step for inquiry, call log and callback promise."""

    inquiry = forms.IntegerField(required=False, widget=forms.HiddenInput)
    subject = forms.CharField(label=_("What is it about?"), max_length=200, required=False)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices, initial=Category.ORDER_STATUS)
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Priority.choices, coerce=int, initial=Priority.NORMAL
    )
    orders = forms.MultipleChoiceField(label=_("Orders"), required=False, widget=forms.CheckboxSelectMultiple)
    direction = forms.ChoiceField(label=_("Call"), choices=CallDirection.choices, initial=CallDirection.INBOUND)
    duration = DurationField(label=_("Duration"), required=False, max_length=10, help_text=_("m:ss"))
    outcome = forms.ChoiceField(label=_("Outcome"), choices=CallOutcome.choices, initial=CallOutcome.INFO_GIVEN)
    notes = forms.CharField(
        label=_("Notes: what the customer said"), widget=forms.Textarea(attrs={"rows": 5}), max_length=10000
    )
    callback_due_at = forms.DateTimeField(
        label=_("Call back by"), required=False, widget=DATETIME_LOCAL, input_formats=["%Y-%m-%dT%H:%M"]
    )
    callback_note = forms.CharField(label=_("Callback note"), required=False, max_length=500)

    def __init__(self, *args, order_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["orders"].choices = order_choices

    def clean(self):
        data = super().clean()
        if not data.get("inquiry") and not (data.get("subject") or "").strip():
            self.add_error("subject", _("Say in a few words what the call is about."))
        if data.get("outcome") == CallOutcome.CALLBACK and not data.get("callback_due_at"):
            self.add_error("callback_due_at", _("When will you call back?"))
        return data


class NewInquiryForm(forms.Form):
    """A letter, an email or a web message typed in by a rep."""

    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.LETTER)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Priority.choices, coerce=int, initial=Priority.NORMAL
    )
    body = forms.CharField(label=_("The customer's words"), widget=forms.Textarea(attrs={"rows": 8}), max_length=50000)
    received_on = forms.DateField(label=_("Date received"), required=False, widget=DATE, help_text=_("For letters."))
    orders = _orders_field()

    def clean(self):
        data = super().clean()
        if data.get("channel") == Channel.LETTER and not data.get("received_on"):
            self.add_error("received_on", _("When did the letter arrive?"))
        return data


# --- the inquiry page -----------------------------------------------------------------------------


class ReplyForm(forms.Form):
    template = forms.ModelChoiceField(
        label=_("Template"), queryset=ResponseTemplate.objects.none(), required=False, empty_label=_("(none)")
    )
    body = forms.CharField(
        label=_("Reply"),
        required=False,
        max_length=50000,
        widget=forms.Textarea(attrs={"rows": 7, "data-composer": "1"}),
        help_text=_("A greeting and closing in the customer's language are added."),
    )
    seen_message_id = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    then_status = forms.ChoiceField(
        label=_("Then"),
        required=False,
        choices=[
            ("", _("keep the status")),
            (InquiryStatus.WAITING_CUSTOMER, _("wait on the customer")),
            (InquiryStatus.RESOLVED, _("resolve")),
        ],
    )

    def __init__(self, *args, language: str = "en", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = ResponseTemplate.objects.filter(active=True, language__in={language, "en"})

    def clean(self):
        data = super().clean()
        if not (data.get("body") or "").strip() and not data.get("template"):
            self.add_error("body", _("Write a reply or choose a template."))
        return data


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Internal note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=50000)


class CustomerMessageForm(forms.Form):
    """Something more from the customer that did not arrive by itself (a letter, a message read out)."""

    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.LETTER)
    body = forms.CharField(label=_("The customer's words"), widget=forms.Textarea(attrs={"rows": 4}), max_length=50000)
    received_on = forms.DateField(label=_("Date received"), required=False, widget=DATE)


class LogCallForm(forms.Form):
    direction = forms.ChoiceField(label=_("Call"), choices=CallDirection.choices, initial=CallDirection.OUTBOUND)
    duration = DurationField(label=_("Duration"), required=False, max_length=10, help_text=_("m:ss"))
    outcome = forms.ChoiceField(label=_("Outcome"), choices=CallOutcome.choices)
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10000, required=False
    )
    callback_due_at = forms.DateTimeField(
        label=_("Call back by"), required=False, widget=DATETIME_LOCAL, input_formats=["%Y-%m-%dT%H:%M"]
    )
    callback_note = forms.CharField(label=_("Callback note"), required=False, max_length=500)


class CallbackForm(forms.Form):
    due_at = forms.DateTimeField(label=_("Call back by"), widget=DATETIME_LOCAL, input_formats=["%Y-%m-%dT%H:%M"])
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class StatusForm(VersionedForm):
    status = forms.ChoiceField(label=_("New status"), choices=InquiryStatus.choices)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)
    override_open_steps = forms.BooleanField(label=_("Resolve although plan steps are open"), required=False)


class DetailsForm(VersionedForm):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    specialty_needed = forms.ChoiceField(
        label=_("Specialty needed"), choices=[("", "—"), *Specialty.choices], required=False
    )
    tags = forms.CharField(label=_("Tags"), required=False, max_length=500, help_text=_("Separate with commas."))


class AssignForm(forms.Form):
    assignee = StaffChoiceField(label=_("Assign to"), queryset=staff_choices(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_choices()


class LinkOrderForm(forms.Form):
    number = forms.CharField(label=_("Order number"), max_length=30)


class HandoffForm(forms.Form):
    order = forms.ChoiceField(label=_("Order"))
    department = forms.ChoiceField(label=_("Department"), choices=Department.choices)
    summary = forms.CharField(label=_("What is needed"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    due_date = forms.DateField(label=_("Due"), required=False, widget=DATE)

    def __init__(self, *args, order_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["order"].choices = order_choices


class RemedyForm(forms.Form):
    kind = forms.ChoiceField(label=_("Remedy"), choices=RemedyKind.choices)
    order = forms.ChoiceField(label=_("Order"), required=False)
    amount = forms.DecimalField(label=_("Amount"), required=False, max_digits=12, decimal_places=2, min_value=0)
    description = forms.CharField(label=_("What is offered"), required=False, max_length=500)
    reason = forms.CharField(label=_("Reason"), max_length=500)
    alternative_to = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, order_choices=(), kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["order"].choices = [("", "—"), *order_choices]
        if kinds is not None:
            self.fields["kind"].choices = [(k, label) for k, label in RemedyKind.choices if k in kinds]


class RemedyDecisionForm(forms.Form):
    state = forms.ChoiceField(
        choices=[
            (RemedyState.ACCEPTED, _("Customer accepted")),
            (RemedyState.DECLINED, _("Customer declined")),
            (RemedyState.WITHDRAWN, _("Withdraw")),
        ]
    )
    note = forms.CharField(label=_("Customer's words"), required=False, max_length=500)


class PlanStepForm(forms.Form):
    title = forms.CharField(label=_("Step"), max_length=300)
    owner = StaffChoiceField(label=_("Owner"), queryset=staff_choices(), required=False)
    due_date = forms.DateField(label=_("Due"), required=False, widget=DATE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_choices()


class PlanStepDoneForm(forms.Form):
    step = forms.IntegerField(widget=forms.HiddenInput)
    done = forms.BooleanField(required=False, widget=forms.HiddenInput)


class CustomerAdjustForm(VersionedForm):
    email = forms.EmailField(label=_("Email"), required=False, max_length=254)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=40)
    address_line1 = forms.CharField(label=_("Address line 1"), required=False, max_length=200)
    address_line2 = forms.CharField(label=_("Address line 2"), required=False, max_length=200)
    city = forms.CharField(label=_("City"), required=False, max_length=100)
    region = forms.CharField(label=_("State / region"), required=False, max_length=100)
    postal_code = forms.CharField(label=_("Postal code"), required=False, max_length=20)
    country = forms.CharField(label=_("Country"), required=False, max_length=2)


class WebInquiryForm(forms.Form):
    """The public form on the website. ``website`` is a honeypot: people leave it empty."""

    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(label=_("Your email"), max_length=254)
    order_number = forms.CharField(label=_("Order number (if any)"), max_length=30, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("How can we help?"), widget=forms.Textarea(attrs={"rows": 7}), max_length=20000)
    website = forms.CharField(
        label=_("Leave this empty"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
