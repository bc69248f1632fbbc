"""Browser forms of the help center: they check the shape of input; the rules live in services."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from inquiries.enums import Category
from inquiries.forms import WebInquiryForm
from orders.forms import apply_domain_error  # noqa: F401  (one way to show refusals)


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    slug = forms.CharField(
        label=_("Slug"),
        max_length=200,
        required=False,
        help_text=_("The article's address. Empty: made from the title. Translations share one slug."),
    )
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    body = forms.CharField(
        label=_("Text (Markdown)"),
        widget=forms.Textarea(attrs={"rows": 16}),
        max_length=50_000,
        help_text=_("Headings with ##, lists with -, links as [text](https://…). HTML is not allowed."),
    )


class VoteForm(forms.Form):
    helpful = forms.TypedChoiceField(choices=[("yes", _("Yes")), ("no", _("No"))], coerce=lambda value: value == "yes")


class HelpInquiryForm(WebInquiryForm):
    """The contact form's fields; the subject asks for matching articles as the customer types."""

    def __init__(self, *args, suggest_url: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].widget.attrs.update(
            {
                "hx-get": suggest_url,
                "hx-trigger": "input changed delay:400ms",
                "hx-target": "#suggestions",
                "hx-swap": "outerHTML",
                "autocomplete": "off",
            }
        )
